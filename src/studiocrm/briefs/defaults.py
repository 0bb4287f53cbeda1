"""The brief templates a new studio starts with, in Russian and English.

Four templates (corporate website, online store, landing page, redesign), each in both
languages, built from one set of questions so the same key always means the same thing (see
the ``Brief`` docstring). ``install_default_templates`` is idempotent and takes the model
classes as arguments so the data migration can pass its historical models.
"""

from __future__ import annotations

from typing import Any

DEFAULT_SOURCES = ["website", "api", "email", "phone", "referral", "messenger", "other"]

PAGE_OPTIONS = {
    "ru": [
        ("home", "Главная"),
        ("about", "О компании"),
        ("services", "Услуги (список)"),
        ("service_page", "Страница услуги"),
        ("catalog", "Каталог"),
        ("product", "Карточка товара"),
        ("cart", "Корзина"),
        ("checkout", "Оформление заказа"),
        ("blog", "Блог / новости"),
        ("article", "Статья / новость"),
        ("contacts", "Контакты"),
        ("account", "Личный кабинет"),
        ("faq", "Вопросы и ответы"),
        ("portfolio", "Портфолио / кейсы"),
        ("pricing", "Цены"),
    ],
    "en": [
        ("home", "Home"),
        ("about", "About us"),
        ("services", "Services (overview)"),
        ("service_page", "Service page"),
        ("catalog", "Catalogue"),
        ("product", "Product page"),
        ("cart", "Cart"),
        ("checkout", "Checkout"),
        ("blog", "Blog / news"),
        ("article", "Article / news item"),
        ("contacts", "Contacts"),
        ("account", "Customer account"),
        ("faq", "FAQ"),
        ("portfolio", "Portfolio / case studies"),
        ("pricing", "Pricing"),
    ],
}

FEATURE_OPTIONS = {
    "ru": [
        ("catalog", "Каталог товаров или услуг"),
        ("cart", "Корзина и оформление заказа"),
        ("online_payment", "Онлайн-оплата"),
        ("account", "Личный кабинет клиента"),
        ("integrations_crm", "Интеграция с CRM"),
        ("integrations_1c", "Интеграция с 1С"),
        ("multilingual", "Несколько языков"),
        ("search", "Поиск по сайту"),
        ("blog", "Блог / новости"),
        ("booking", "Онлайн-запись"),
        ("calculator", "Калькулятор стоимости"),
    ],
    "en": [
        ("catalog", "Product or service catalogue"),
        ("cart", "Cart and ordering"),
        ("online_payment", "Online payment"),
        ("account", "Customer account"),
        ("integrations_crm", "CRM integration"),
        ("integrations_1c", "1C / accounting system integration"),
        ("multilingual", "Several languages"),
        ("search", "Site search"),
        ("blog", "Blog / news"),
        ("booking", "Online booking"),
        ("calculator", "Price calculator"),
    ],
}

CONTENT_OPTIONS = {
    "ru": [
        ("ready", "Всё готово: тексты и фото есть"),
        ("partial", "Готово частично"),
        ("none", "Ничего нет, нужна помощь"),
    ],
    "en": [
        ("ready", "Ready: we have the texts and images"),
        ("partial", "Partly ready"),
        ("none", "Nothing yet, we need help"),
    ],
}

BUDGET_OPTIONS = {
    "ru": [
        ("lt_300k", "до 300 000 ₽"),
        ("300k_700k", "300 000 – 700 000 ₽"),
        ("700k_1500k", "700 000 – 1 500 000 ₽"),
        ("gt_1500k", "более 1 500 000 ₽"),
    ],
    "en": [
        ("lt_5k", "under 5,000 USD/EUR"),
        ("5k_15k", "5,000 – 15,000 USD/EUR"),
        ("15k_40k", "15,000 – 40,000 USD/EUR"),
        ("gt_40k", "over 40,000 USD/EUR"),
    ],
}

# Every text in both languages: key -> (ru, en).
TEXT: dict[str, tuple[str, str]] = {
    "section_about": ("О проекте", "About the project"),
    "section_structure": ("Структура и функции", "Structure and features"),
    "section_content": ("Контент и дизайн", "Content and design"),
    "section_terms": ("Сроки и бюджет", "Timing and budget"),
    "company": ("Название компании или проекта", "Company or project name"),
    "activity": ("Чем занимается компания?", "What does your company do?"),
    "activity_help": ("Пара предложений о продуктах или услугах.", "A couple of sentences."),
    "goal": ("Какую задачу должен решать сайт?", "What should the website achieve?"),
    "goal_help": (
        "Например: заявки на услуги, продажи, доверие к бренду, поиск сотрудников.",
        "For example: service requests, sales, brand trust, hiring.",
    ),
    "audience": ("Кто ваши клиенты?", "Who are your customers?"),
    "audience_help": (
        "Возраст, род занятий, откуда узнают о вас, что для них важно.",
        "Who they are, how they find you, what matters to them.",
    ),
    "competitors": ("Сайты конкурентов", "Competitors' websites"),
    "competitors_help": ("Адреса и что в них нравится или нет.", "Addresses and what you think."),
    "pages": ("Какие страницы нужны?", "Which pages do you need?"),
    "pages_help": ("Отметьте всё, что понадобится.", "Tick everything you will need."),
    "pages_landing": (
        "Какие страницы нужны кроме самого лендинга?",
        "Which pages besides the landing page itself?",
    ),
    "features": ("Что должно работать на сайте?", "What should the website do?"),
    "features_help": ("Отметьте всё, что нужно.", "Tick everything you need."),
    "languages_count": ("Сколько языковых версий?", "How many languages?"),
    "products_count": ("Сколько товаров в каталоге?", "How many products in the catalogue?"),
    "products_count_help": ("Примерно, на старте.", "Roughly, at launch."),
    "payment_methods": ("Как клиенты будут платить?", "How will customers pay?"),
    "delivery": ("Нужен расчёт доставки?", "Do you need delivery cost calculation?"),
    "landing_offer": ("Что предлагает лендинг?", "What does the landing page offer?"),
    "landing_offer_help": (
        "Один продукт, услуга или событие и главное действие посетителя.",
        "One product, service or event and the one action a visitor should take.",
    ),
    "traffic": ("Откуда придут посетители?", "Where will visitors come from?"),
    "existing_site": ("Адрес текущего сайта", "Current website address"),
    "redesign_problems": (
        "Что не устраивает в текущем сайте?",
        "What is wrong with the current site?",
    ),
    "keep_content": ("Переносим контент со старого сайта?", "Do we move the old site's content?"),
    "content_ready": ("Готов ли контент?", "Is the content ready?"),
    "content_ready_help": ("Тексты, фотографии, описания.", "Texts, photos, descriptions."),
    "has_brandbook": ("Есть логотип или фирменный стиль?", "Do you have a logo or brand guide?"),
    "brand_files": ("Прикрепите логотип или брендбук", "Attach the logo or brand guide"),
    "brand_files_help": (
        "PDF, изображения или документы, до 10 МБ каждый.",
        "PDF, images or documents, up to 10 MB each.",
    ),
    "design_references": ("Сайты, которые вам нравятся", "Websites you like"),
    "design_references_help": (
        "Ссылки и что именно нравится: цвета, подача, настроение.",
        "Links and what exactly you like: colours, layout, mood.",
    ),
    "deadline": ("Когда сайт должен заработать?", "When should the site go live?"),
    "budget": ("Какой бюджет вы планируете?", "What budget do you have in mind?"),
    "budget_help": (
        "Это поможет предложить подходящее решение.",
        "It helps us suggest the right solution.",
    ),
    "comments": ("Что ещё нам важно знать?", "Anything else we should know?"),
    "payment_card": ("Банковская карта онлайн", "Card online"),
    "payment_invoice": ("Счёт для юрлиц", "Bank transfer / invoice"),
    "payment_cash": ("При получении", "On delivery"),
    "traffic_ads": ("Контекстная реклама", "Search ads"),
    "traffic_social": ("Соцсети", "Social media"),
    "traffic_email": ("Email-рассылки", "Email campaigns"),
    "traffic_offline": ("Офлайн-реклама", "Offline advertising"),
}

TEMPLATE_NAMES = {
    "corporate": ("Корпоративный сайт", "Corporate website"),
    "store": ("Интернет-магазин", "Online store"),
    "landing": ("Лендинг", "Landing page"),
    "redesign": ("Редизайн сайта", "Website redesign"),
}

INTRO = (
    "Ответьте, пожалуйста, на несколько вопросов — так мы точнее оценим проект. "
    "Ответы сохраняются сами, можно вернуться позже. Обязательные вопросы отмечены звёздочкой.",
    "Please answer a few questions so we can estimate your project accurately. "
    "Your answers save as you type and you can come back later. Required questions are "
    "marked with an asterisk.",
)


def _t(key: str, language: str) -> str:
    ru, en = TEXT[key]
    return ru if language == "ru" else en


def _options(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": value, "label": label} for value, label in pairs]


def _q(
    key: str,
    kind: str,
    language: str,
    *,
    label_key: str | None = None,
    help_key: str | None = None,
    options: list[tuple[str, str]] | None = None,
    required: bool = False,
    allow_other: bool = False,
    show_if: tuple[str, str] | None = None,
) -> dict[str, Any]:
    help_key = help_key if help_key is not None else f"{key}_help"
    return {
        "key": key,
        "type": kind,
        "label": _t(label_key or key, language),
        "help": _t(help_key, language) if help_key in TEXT else "",
        "options": _options(options or []),
        "required": required,
        "allow_other": allow_other,
        "show_if_key": show_if[0] if show_if else "",
        "show_if_equals": show_if[1] if show_if else "",
    }


def _about(kind: str, lang: str) -> list[dict[str, Any]]:
    questions = [_q("company", "short_text", lang, required=True)]
    if kind == "redesign":
        questions.append(_q("existing_site", "url", lang, required=True))
        questions.append(_q("redesign_problems", "long_text", lang, required=True))
    else:
        questions.append(_q("activity", "long_text", lang))
    if kind == "landing":
        questions.append(_q("landing_offer", "long_text", lang, required=True))
    questions.append(_q("goal", "long_text", lang, required=True))
    questions.append(_q("audience", "long_text", lang))
    questions.append(_q("competitors", "long_text", lang))
    return questions


def _structure(kind: str, lang: str) -> list[dict[str, Any]]:
    pages_label = "pages_landing" if kind == "landing" else "pages"
    questions = [
        _q(
            "pages",
            "pages",
            lang,
            label_key=pages_label,
            help_key="pages_help",
            options=PAGE_OPTIONS[lang],
            required=kind != "landing",
            allow_other=True,
        ),
        _q("features", "multi_choice", lang, options=FEATURE_OPTIONS[lang], allow_other=True),
        _q("languages_count", "number", lang, show_if=("features", "multilingual")),
    ]
    if kind == "store":
        questions.append(_q("products_count", "number", lang, required=True))
        questions.append(
            _q(
                "payment_methods",
                "multi_choice",
                lang,
                options=[
                    ("card", _t("payment_card", lang)),
                    ("invoice", _t("payment_invoice", lang)),
                    ("cash", _t("payment_cash", lang)),
                ],
                allow_other=True,
            )
        )
        questions.append(_q("delivery", "yes_no", lang))
    if kind == "landing":
        questions.append(
            _q(
                "traffic",
                "multi_choice",
                lang,
                options=[
                    ("ads", _t("traffic_ads", lang)),
                    ("social", _t("traffic_social", lang)),
                    ("email", _t("traffic_email", lang)),
                    ("offline", _t("traffic_offline", lang)),
                ],
                allow_other=True,
            )
        )
    if kind == "redesign":
        questions.append(_q("keep_content", "yes_no", lang))
    return questions


def _content(kind: str, lang: str) -> list[dict[str, Any]]:
    return [
        _q("content_ready", "single_choice", lang, options=CONTENT_OPTIONS[lang], required=True),
        _q("has_brandbook", "yes_no", lang),
        _q("brand_files", "file", lang, show_if=("has_brandbook", "yes")),
        _q("design_references", "long_text", lang),
    ]


def _terms(kind: str, lang: str) -> list[dict[str, Any]]:
    return [
        _q("deadline", "date", lang),
        _q("budget", "single_choice", lang, options=BUDGET_OPTIONS[lang]),
        _q("comments", "long_text", lang),
    ]


def default_templates(language: str) -> list[dict[str, Any]]:
    """The shipped templates in one language as plain data."""
    templates = []
    for kind, (ru_name, en_name) in TEMPLATE_NAMES.items():
        sections = [
            (_t("section_about", language), _about(kind, language)),
            (_t("section_structure", language), _structure(kind, language)),
            (_t("section_content", language), _content(kind, language)),
            (_t("section_terms", language), _terms(kind, language)),
        ]
        templates.append(
            {
                "default_key": kind,
                "language": language,
                "name": ru_name if language == "ru" else en_name,
                "intro": INTRO[0] if language == "ru" else INTRO[1],
                # Deal sources are channels, not project types: the corporate template is the
                # suggestion for every channel until the studio decides otherwise.
                "sources": DEFAULT_SOURCES if kind == "corporate" else [],
                "sections": sections,
            }
        )
    return templates


def install_default_templates(template_model: Any, section_model: Any, question_model: Any) -> int:
    """Create the default templates that do not exist yet; return how many were created.

    A template is matched by (default_key, language), so running this again never touches a
    template the studio has edited, and re-creates only ones that were deleted.
    """
    created = 0
    for language in ("ru", "en"):
        for data in default_templates(language):
            if template_model.objects.filter(
                default_key=data["default_key"], language=language
            ).exists():
                continue
            template = template_model.objects.create(
                name=data["name"],
                language=language,
                intro=data["intro"],
                sources=data["sources"],
                default_key=data["default_key"],
            )
            for section_position, (title, questions) in enumerate(data["sections"]):
                section = section_model.objects.create(
                    template=template, title=title, position=section_position
                )
                for position, question in enumerate(questions):
                    question_model.objects.create(
                        template=template, section=section, position=position, **question
                    )
            created += 1
    return created
