"""The sandbox studio templates run in: Jinja2, plain data in, bounded HTML out.

Studio owners and managers write document templates, so a template is code we did not write.
It runs in an ``ImmutableSandboxedEnvironment`` (no ``_``-attributes, no mutation of data,
no ORM or settings in reach: the context is plain dicts, lists, strings, Decimals and dates)
with autoescaping on, no loader (no ``include``/``import`` of files) and hard limits, so no
template can read what it should not or keep a worker busy:

- every ``for`` loop item, macro call, attribute lookup and operator charges one budget: at
  most ``MAX_ITERATIONS`` loop items and ``MAX_SECONDS`` of wall time per render;
- everything a template writes (also into ``{% set %}`` blocks and macros) counts towards
  ``MAX_OUTPUT`` characters; ``*``, ``+``, ``**``, ``%``, ``~``, filters and method calls
  refuse results larger than the limits before or right after making them;
- number arguments to filters and methods (widths, counts) are capped, so ``center(10**9)``
  fails before allocating;
- macros may nest ``MAX_DEPTH`` deep; blocks (``for``, ``if``…) ``MAX_NESTING`` deep and
  brackets ``MAX_BRACKETS`` deep, checked on the tokens before parsing (Python's parser and
  compiler give up on deeper code with errors that name no template line);
- filters that sort, wrap, replace or join refuse inputs whose cost or result would be too
  large before they run;
- escaping cannot be switched off (no ``|safe``, no ``{% autoescape false %}``).

Any violation raises ``TemplateProblem`` with a message for the editor and the line number.

``render_source`` does the work in a child process (``isolation.py``) with hard CPU-time,
memory and wall-clock limits, because one C-level call or the compiler itself can outrun the
checks above; ``render_here`` is the same work in this process, for the child.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Cycler, Joiner
from jinja2.visitor import NodeTransformer

from studiocrm.documents import filters as document_filters

TEMPLATE_NAME = "<template>"  # the file name Jinja gives templates made from strings
MAX_SOURCE = 100_000  # characters of template source (the shipped ones are under 10,000)
MAX_ITERATIONS = 100_000  # loop items per render, all loops together
MAX_OUTPUT = 3_000_000  # characters written per render
MAX_VALUE = 1_000_000  # characters or items in one computed value
MAX_ARGUMENT = 100_000  # largest number a filter or method may be given
MAX_INT_BITS = 4096
MAX_DEPTH = 50  # nested macro / recursive loop calls
MAX_SECONDS = 3.0
MAX_RANGE = 10_000
MAX_NESTING = 15  # blocks inside blocks (Python allows 20 nested loops)
MAX_BRACKETS = 30  # ( [ { inside each other
MAX_SORTED = 100_000  # items sort, dictsort, unique and groupby take
MAX_WRAPPED = 100_000  # characters wordwrap takes
MEMORY_BYTES = 256 * 1024 * 1024  # how much a render may allocate in its child process
WALL_GRACE_SECONDS = 5.0  # on top of the CPU budget before the child is killed

_LARGE_NUMBER_IN_FORMAT = re.compile(r"\d{6,}")


class TemplateProblem(Exception):
    """A template that cannot be rendered: syntax, a forbidden access, a limit, bad data.

    ``message`` is for the person editing the template; ``line`` the 1-based line in the
    template source when known.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def isolation_answer(self) -> tuple[str, int | None]:
        """What a child process sends back for this problem (see ``isolation``)."""
        return (self.message, self.line)

    def __str__(self) -> str:
        if self.line:
            return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


class LimitExceeded(Exception):
    """Raised inside a render when a limit is hit; becomes a TemplateProblem."""


@dataclass
class _Budget:
    iterations: int = MAX_ITERATIONS
    output: int = MAX_OUTPUT
    depth: int = 0
    deadline: float = 0.0

    def tick(self, count: int = 1) -> None:
        self.iterations -= count
        if self.iterations < 0:
            raise LimitExceeded(
                _("the template loops too much (more than %(count)s loop steps).")
                % {"count": MAX_ITERATIONS}
            )
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                _("the template takes too long to render (over %(seconds)s seconds).")
                % {"seconds": MAX_SECONDS}
            )

    def write(self, size: int) -> None:
        self.output -= size
        if self.output < 0:
            raise LimitExceeded(
                _("the document is too large (over %(count)s characters).") % {"count": MAX_OUTPUT}
            )
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                _("the template takes too long to render (over %(seconds)s seconds).")
                % {"seconds": MAX_SECONDS}
            )


_budget: ContextVar[_Budget | None] = ContextVar("documents_template_budget", default=None)


def _tick() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.tick()


def _check_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple | dict | set) and len(value) > MAX_VALUE:
        raise LimitExceeded(
            _("a value in the template grows too large (over %(count)s characters or items).")
            % {"count": MAX_VALUE}
        )
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise LimitExceeded(_("a number in the template grows too large."))
    return value


def _check_argument(value: Any, depth: int = 0) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > MAX_ARGUMENT:
        raise LimitExceeded(
            _("the number %(value)s is too large for this use (at most %(limit)s).")
            % {"value": value if value.bit_length() < 64 else "…", "limit": MAX_ARGUMENT}
        )
    if depth < 2 and isinstance(value, list | tuple):
        for item in value[:100]:
            _check_argument(item, depth + 1)
    elif depth < 2 and isinstance(value, dict):
        for item in list(value.values())[:100]:
            _check_argument(item, depth + 1)


def _check_format_string(text: str) -> None:
    if _LARGE_NUMBER_IN_FORMAT.search(text):
        raise LimitExceeded(_("a format string asks for a field that is too wide."))


def bounded_range(*args: int) -> range:
    """``range`` for templates: at most MAX_RANGE numbers."""
    for argument in args:
        if not isinstance(argument, int) or isinstance(argument, bool):
            raise LimitExceeded(_("range() takes whole numbers."))
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitExceeded(_("range() is limited to %(count)s numbers.") % {"count": MAX_RANGE})
    return numbers


# Filters whose number arguments are sizes (widths, counts); capped before they run.
_SIZED_FILTERS = frozenset(
    {"center", "indent", "truncate", "wordwrap", "batch", "slice", "urlize", "format"}
)
_SORTING_FILTERS = frozenset({"sort", "dictsort", "unique", "groupby"})


def _check_cost(
    name: str, value: Any, arguments: tuple[Any, ...], keywords: Mapping[str, Any]
) -> None:
    """Refuse a filter call whose work or result would be too large, before it runs: one
    such call is a single C-level operation the budget cannot interrupt."""
    if name in _SORTING_FILTERS and isinstance(value, Sized) and len(value) > MAX_SORTED:
        raise LimitExceeded(
            _("%(filter)s takes at most %(count)s items.") % {"filter": name, "count": MAX_SORTED}
        )
    if name == "wordwrap" and isinstance(value, str) and len(value) > MAX_WRAPPED:
        raise LimitExceeded(
            _("wordwrap takes at most %(count)s characters.") % {"count": MAX_WRAPPED}
        )
    given = dict(zip(("old", "new") if name == "replace" else ("d",), arguments, strict=False))
    given.update(keywords)
    if name == "replace" and "old" in given and "new" in given and isinstance(value, str):
        old, new = str(given["old"]), str(given["new"])
        found = len(value) + 1 if old == "" else value.count(old)
        if len(new) > len(old) and len(value) + found * (len(new) - len(old)) > MAX_VALUE:
            raise LimitExceeded(_("a value in the template grows too large."))
    if name == "join" and isinstance(value, list | tuple) and value:
        separator = str(given.get("d", ""))
        size = len(separator) * (len(value) - 1)
        for item in value:
            if size > MAX_VALUE:
                raise LimitExceeded(_("a value in the template grows too large."))
            size += len(item) if isinstance(item, str) else 24
        if size > MAX_VALUE:
            raise LimitExceeded(_("a value in the template grows too large."))


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter so its extra arguments are capped and its result is size-checked.

    Filters are not routed through ``Environment.call`` by Jinja, and the optimiser may even
    run them while compiling, so the check lives in the filter itself.
    """
    pass_arg = getattr(function, "jinja_pass_arg", None)
    skip = 2 if pass_arg is not None else 1
    check_arguments = name in _SIZED_FILTERS

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if check_arguments:
            for argument in args[skip:]:
                _check_argument(argument)
            for argument in kwargs.values():
                _check_argument(argument)
        if name == "format" and len(args) >= skip and isinstance(args[skip - 1], str):
            _check_format_string(args[skip - 1])
        if len(args) >= skip:
            _check_cost(name, args[skip - 1], args[skip:], kwargs)
        _tick()
        return _check_size(function(*args, **kwargs))

    return guarded


class _Guards(NodeTransformer):
    """Rewrites a parsed template so loops, writes and ``~`` go through the budget, and
    refuses ``{% autoescape false %}``: data (a client's brief answers, names) is always
    escaped in a document."""

    def visit_EvalContextModifier(self, node: nodes.EvalContextModifier) -> nodes.Node:
        raise TemplateSyntaxError(
            _("autoescaping cannot be switched off in a document template."), node.lineno
        )

    def visit_ScopedEvalContextModifier(self, node: nodes.ScopedEvalContextModifier) -> nodes.Node:
        return self.visit_EvalContextModifier(node)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("budget_iter"),
            [node.iter],
            [],
            None,
            None,
            lineno=node.lineno,
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.EnvironmentAttribute("budget_value"), [node], [], None, None, lineno=node.lineno
        )

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        static = 0
        children: list[nodes.Expr] = []
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                static += len(child.data)
                children.append(child)
            else:
                children.append(
                    nodes.Call(
                        nodes.EnvironmentAttribute("budget_write"),
                        [child],
                        [],
                        None,
                        None,
                        lineno=child.lineno,
                    )
                )
        if static:
            children.insert(
                0,
                nodes.Call(
                    nodes.EnvironmentAttribute("budget_static"),
                    [nodes.Const(static)],
                    [],
                    None,
                    None,
                    lineno=node.lineno,
                ),
            )
        node.nodes = children
        return node


class DocumentEnvironment(ImmutableSandboxedEnvironment):
    """The one Jinja environment every document template renders in."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__(
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=0,
        )
        # No lipsum (sized by its argument) and no namespace (a mutable accumulator).
        self.globals = {
            "range": bounded_range,
            "dict": dict,
            "cycler": Cycler,
            "joiner": Joiner,
        }
        all_filters = dict(self.filters)
        # No |safe: a template cannot switch escaping off for the data it prints.
        all_filters.pop("safe", None)
        all_filters.update(filters or {})
        self.filters = {name: _guard_filter(name, f) for name, f in all_filters.items()}

    # Hooks the rewritten template calls (see _Guards) --------------------------------------

    def budget_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _budget.get()
        for item in iterable:
            if budget is not None:
                budget.tick()
            yield item

    def budget_value(self, value: Any) -> Any:
        return _check_size(value)

    def budget_write(self, value: Any) -> Any:
        budget = _budget.get()
        if budget is not None:
            budget.write(len(value) if isinstance(value, str) else 32)
        return value

    def budget_static(self, size: int) -> str:
        budget = _budget.get()
        if budget is not None:
            budget.write(size)
        return ""

    # Sandbox hooks --------------------------------------------------------------------------

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        source = _Guards().visit(source)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = _budget.get()
        internal = getattr(__obj, "__self__", None) is __self and getattr(
            __obj, "__name__", ""
        ).startswith("budget_")
        if internal:
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
            return __obj(*args, **kwargs)
        if isinstance(__obj, types.BuiltinMethodType):
            # str.ljust(10**9), "".zfill(...): the number is a size; cap it first.
            for argument in args:
                _check_argument(argument)
            for name, argument in kwargs.items():
                if not name.startswith("_"):
                    _check_argument(argument)
        if budget is not None:
            budget.tick()
            budget.depth += 1
            if budget.depth > MAX_DEPTH:
                raise LimitExceeded(
                    _("macros or loops call themselves too deeply (over %(count)s levels).")
                    % {"count": MAX_DEPTH}
                )
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            if budget is not None:
                budget.depth -= 1
        return _check_size(result)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        sized = (str, bytes, list, tuple)
        if operator == "*":
            if isinstance(left, sized) and isinstance(right, int):
                _check_product(len(left), right)
            elif isinstance(right, sized) and isinstance(left, int):
                _check_product(len(right), left)
        elif operator == "+" and isinstance(left, sized) and isinstance(right, sized):
            if len(left) + len(right) > MAX_VALUE:
                raise LimitExceeded(_("a value in the template grows too large."))
        elif operator == "**":
            if isinstance(left, int | float) and isinstance(right, int | float):
                base_bits = max(abs(int(left)), 2).bit_length()
                if right > 0 and base_bits * right > MAX_INT_BITS:
                    raise LimitExceeded(_("a number in the template grows too large."))
        elif operator == "%" and isinstance(left, str):
            _check_format_string(left)
        return _check_size(self.binop_table[operator](left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick_light()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick_light()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        _check_format_string(value.__self__)
        return wrapper


def _tick_light() -> None:
    budget = _budget.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise LimitExceeded(
            _("the template takes too long to render (over %(seconds)s seconds).")
            % {"seconds": MAX_SECONDS}
        )


def _check_product(length: int, times: int) -> None:
    if times > 0 and length * times > MAX_VALUE:
        raise LimitExceeded(_("a value in the template grows too large."))


# Rendering ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _environment(filters_key: str) -> DocumentEnvironment:
    return DocumentEnvironment(document_filters.FILTERS)


def environment() -> DocumentEnvironment:
    return _environment("default")


@functools.lru_cache(maxsize=128)
def _compiled(source_sha256: str, source: str) -> Any:
    return environment().from_string(source)


_OPENING = frozenset({"for", "if", "macro", "call", "filter", "with", "autoescape", "block"})


def _check_nesting(source: str) -> None:
    """Refuse blocks or brackets nested deeper than Python can compile, naming the line.
    Reads the token stream only (the lexer is a loop, the parser recurses)."""
    depth = 0
    brackets = 0
    tag_next = False
    for line, kind, value in environment().lex(source):
        if kind == "whitespace":
            continue
        if kind == "block_begin":
            tag_next = True
            continue
        if tag_next and kind == "name":
            if value in _OPENING:
                depth += 1
                if depth > MAX_NESTING:
                    raise TemplateProblem(
                        _("blocks are nested too deeply (more than %(count)s levels).")
                        % {"count": MAX_NESTING},
                        line,
                    )
            elif value.startswith("end"):
                depth = max(0, depth - 1)
        tag_next = False
        if kind == "operator" and value in "([{":
            brackets += 1
            if brackets > MAX_BRACKETS:
                raise TemplateProblem(
                    _("brackets are nested too deeply (more than %(count)s levels).")
                    % {"count": MAX_BRACKETS},
                    line,
                )
        elif kind == "operator" and value in ")]}":
            brackets = max(0, brackets - 1)


def compile_source(source: str) -> Any:
    """Compile a template (cached by its SHA-256). Raises TemplateProblem for anything
    wrong with it, never another exception."""
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(
            _("The template is too long (over %(count)s characters).") % {"count": MAX_SOURCE}
        )
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    try:
        _check_nesting(source)
        return _compiled(digest, source)
    except TemplateSyntaxError as error:
        raise TemplateProblem(error.message or str(error), error.lineno) from error
    except (LimitExceeded, SecurityError) as error:
        raise TemplateProblem(str(error), _template_line(error)) from error
    except (RecursionError, SyntaxError) as error:
        # Python's own parser or compiler gave up on the code Jinja generated.
        raise TemplateProblem(
            _("the template is too complex to compile (nested too deeply or too long).")
        ) from error


def render_source(source: str, context: Mapping[str, Any], *, seconds: float | None = None) -> str:
    """Compile and render template source against a plain-data context in a child process
    with hard limits (``isolation``): at most ``seconds`` of CPU time, ``MEMORY_BYTES`` more
    memory, and the sandbox's own limits inside.

    Raises TemplateProblem with a message for the editor; never anything else for a bad
    template (a broken template must not turn into a server error).
    """
    from django.utils.translation import get_language

    from studiocrm.documents import isolation

    if len(source) > MAX_SOURCE:  # before sending it anywhere
        compile_source(source)
    seconds = MAX_SECONDS if seconds is None else seconds
    limits = isolation.Limits(
        cpu_seconds=seconds,
        memory_bytes=MEMORY_BYTES,
        wall_seconds=seconds + WALL_GRACE_SECONDS,
    )
    try:
        return isolation.pool("templates").run(
            "studiocrm.documents.sandbox:render_here",
            (source, dict(context), seconds),
            limits,
            language=get_language() or "",
        )
    except isolation.JobFailed as failed:
        message, line = failed.value
        raise TemplateProblem(message, line) from None
    except isolation.TooSlow as error:
        raise TemplateProblem(
            _("the template takes too long to compile and render (over %(seconds)s seconds).")
            % {"seconds": _seconds(seconds)},
            error.line,
        ) from None
    except isolation.TooLarge as error:
        raise TemplateProblem(
            _("the template needs too much memory (over %(megabytes)s MB).")
            % {"megabytes": MEMORY_BYTES // (1024 * 1024)},
            error.line,
        ) from None
    except isolation.Busy:
        raise TemplateProblem(
            _("Too many documents are being prepared right now. Try again in a moment.")
        ) from None
    except isolation.IsolationError as error:
        raise TemplateProblem(
            _("the template is too complex to render (nested too deeply or too long)."),
            error.line,
        ) from None


def _seconds(seconds: float) -> str:
    return f"{seconds:g}"


def render_here(source: str, context: Mapping[str, Any], seconds: float = MAX_SECONDS) -> str:
    """``render_source`` in this process, with the sandbox's limits only: the job a child
    process runs. Raises TemplateProblem."""
    template = compile_source(source)
    budget = _Budget(deadline=time.monotonic() + seconds)
    token = _budget.set(budget)
    try:
        parts: list[str] = []
        for chunk in template.generate(dict(context)):
            parts.append(chunk)
        return "".join(parts)
    except TemplateProblem:
        raise
    except LimitExceeded as error:
        raise TemplateProblem(str(error), _template_line(error)) from error
    except SecurityError as error:
        raise TemplateProblem(
            _("not allowed in a document template: %(detail)s") % {"detail": error},
            _template_line(error),
        ) from error
    except UndefinedError as error:
        raise TemplateProblem(
            _("unknown placeholder: %(detail)s (see the list of placeholders).")
            % {"detail": error},
            _template_line(error),
        ) from error
    except TemplateSyntaxError as error:
        raise TemplateProblem(error.message or str(error), error.lineno) from error
    except RecursionError as error:
        raise TemplateProblem(
            _("macros or loops call themselves too deeply."), _template_line(error)
        ) from error
    except MemoryError:
        raise  # the child reports it and is replaced
    except Exception as error:  # any other fault of the template: a message, not a 500
        raise TemplateProblem(
            f"{type(error).__name__}: {error}"[:500], _template_line(error)
        ) from error
    finally:
        _budget.reset(token)


def _template_line(error: BaseException) -> int | None:
    """The template line an error happened on, from Jinja's rewritten traceback."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == TEMPLATE_NAME:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
