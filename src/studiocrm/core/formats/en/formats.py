"""English dates for studios that are mostly European: day before month, month spelled out,
24-hour clock. Django's own ``en`` prints "12/05/2026" (read as 12 May outside the US) and
"Dec. 9, 2026" beside the documents' "9 December 2026"; one scheme everywhere instead:

- long: "9 December 2026" (DATE_FORMAT; documents, letters, client pages)
- short: "9 Dec 2026" (SHORT_DATE_FORMAT; lists and manager pages; never all digits)

HTML date inputs send and show ISO dates, so ISO stays the first input format (Django's
``DateInput`` renders a value with the first one)."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday

# ISO first; then the dates as this module prints them. No "05/12/2026": it reads two ways.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d %B %Y", "%d %b %Y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d %B %Y, %H:%M",
    "%d %b %Y, %H:%M",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
