"""The price lists, packages and estimate rules a new studio starts with.

Two lists ship: one in roubles with Russian names (rates of a mid-sized Russian studio) and
one in euros with English names (rates of a small EU agency). Both texts are written here
literally, not through gettext, because they become studio data: the loader runs inside a
migration, when no translation catalogue may be compiled yet, and the studio edits the result.

The loader is idempotent: a list is found by ``default_key`` and never loaded twice, so the
studio's edits survive. It takes the model classes as arguments so the data migration can
pass its historical models.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal

# code, names, stage, RUB rate, RUB cost, EUR rate, EUR cost, hours/day
# fmt: off
ROLES: list[tuple[str, dict[str, str], str, int, int, int, int, str]] = [
    (
        "pm", {"ru": "Менеджер проекта", "en": "Project manager"}, "management", 2500, 1200, 75,
        40, "6",
    ),
    (
        "analyst", {"ru": "Аналитик, проектировщик", "en": "Analyst / UX architect"}, "analysis",
        2800, 1400, 80, 42, "6",
    ),
    ("designer", {"ru": "Дизайнер", "en": "Designer"}, "design", 3000, 1500, 85, 45, "6"),
    (
        "frontend", {"ru": "Фронтенд-разработчик", "en": "Front-end developer"}, "development",
        3000, 1600, 85, 48, "6",
    ),
    (
        "backend", {"ru": "Бэкенд-разработчик", "en": "Back-end developer"}, "development", 3500,
        1900, 95, 55, "6",
    ),
    (
        "copywriter", {"ru": "Копирайтер, контент-менеджер", "en": "Copywriter / content editor"},
        "content", 1500, 700, 55, 28, "6",
    ),
    ("seo", {"ru": "SEO-специалист", "en": "SEO specialist"}, "launch", 2500, 1200, 70, 35, "6"),
    ("qa", {"ru": "Тестировщик", "en": "QA engineer"}, "testing", 2000, 1000, 60, 32, "6"),
    (
        "devops", {"ru": "Системный администратор", "en": "DevOps engineer"}, "launch", 3000,
        1600, 90, 50, "6",
    ),
]

# slug, names, client descriptions, hours per role
PAGE_TYPES: list[tuple[str, dict[str, str], dict[str, str], dict[str, str]]] = [
    (
        "home", {"ru": "Главная страница", "en": "Home page"},
        {
            "ru": "Первый экран, ключевые блоки, призывы к действию.",
            "en": "Hero, key sections and calls to action.",
        },
        {"designer": "16", "frontend": "12", "backend": "4", "copywriter": "3"},
    ),
    (
        "about", {"ru": "О компании", "en": "About"},
        {"ru": "История, команда, преимущества.", "en": "Story, team and strengths."},
        {"designer": "6", "frontend": "4", "backend": "1", "copywriter": "2"},
    ),
    (
        "services", {"ru": "Список услуг", "en": "Services overview"},
        {
            "ru": "Все услуги с переходом на страницы услуг.",
            "en": "All services, each linking to its page.",
        },
        {"designer": "6", "frontend": "5", "backend": "2", "copywriter": "2"},
    ),
    (
        "service_page", {"ru": "Страница услуги", "en": "Service page"},
        {
            "ru": "Описание услуги, цены, форма заявки.",
            "en": "Service description, prices and an enquiry form.",
        },
        {"designer": "5", "frontend": "4", "backend": "1", "copywriter": "2"},
    ),
    (
        "catalog", {"ru": "Каталог", "en": "Catalogue"},
        {
            "ru": "Разделы, фильтры, сортировка, постраничный вывод.",
            "en": "Categories, filters, sorting and paging.",
        },
        {"designer": "14", "frontend": "12", "backend": "16", "copywriter": "1"},
    ),
    (
        "product", {"ru": "Карточка товара", "en": "Product page"},
        {
            "ru": "Галерея, характеристики, цены, похожие товары.",
            "en": "Gallery, specifications, prices and related products.",
        },
        {"designer": "12", "frontend": "10", "backend": "12", "copywriter": "1"},
    ),
    (
        "cart", {"ru": "Корзина", "en": "Cart"},
        {
            "ru": "Состав заказа, изменение количества, промокоды.",
            "en": "Order contents, quantities and promo codes.",
        },
        {"designer": "8", "frontend": "8", "backend": "12", "copywriter": "0.5"},
    ),
    (
        "checkout", {"ru": "Оформление заказа", "en": "Checkout"},
        {
            "ru": "Доставка, оплата, подтверждение заказа.",
            "en": "Delivery, payment and order confirmation.",
        },
        {"designer": "8", "frontend": "8", "backend": "16", "copywriter": "0.5"},
    ),
    (
        "blog", {"ru": "Блог: список статей", "en": "Blog index"},
        {"ru": "Лента статей с рубриками.", "en": "Article list with categories."},
        {"designer": "6", "frontend": "6", "backend": "6", "copywriter": "1"},
    ),
    (
        "article", {"ru": "Статья", "en": "Article"},
        {
            "ru": "Шаблон статьи с оглавлением и перелинковкой.",
            "en": "Article template with contents and related links.",
        },
        {"designer": "4", "frontend": "4", "backend": "2", "copywriter": "2"},
    ),
    (
        "contacts", {"ru": "Контакты", "en": "Contacts"},
        {"ru": "Адреса, карта, форма обратной связи.", "en": "Addresses, map and contact form."},
        {"designer": "4", "frontend": "3", "backend": "2", "copywriter": "1"},
    ),
    (
        "account", {"ru": "Личный кабинет", "en": "Customer account"},
        {
            "ru": "Регистрация, вход, профиль, история заказов.",
            "en": "Sign-up, sign-in, profile and order history.",
        },
        {"designer": "14", "frontend": "14", "backend": "24", "copywriter": "1"},
    ),
    (
        "faq", {"ru": "Вопросы и ответы", "en": "FAQ"},
        {
            "ru": "Частые вопросы с раскрывающимися ответами.",
            "en": "Frequent questions with expandable answers.",
        },
        {"designer": "3", "frontend": "3", "backend": "1", "copywriter": "2"},
    ),
    (
        "portfolio", {"ru": "Портфолио", "en": "Portfolio"},
        {
            "ru": "Проекты с фильтром и страницей проекта.",
            "en": "Projects with a filter and a project page.",
        },
        {"designer": "8", "frontend": "6", "backend": "4", "copywriter": "2"},
    ),
    (
        "pricing", {"ru": "Цены и тарифы", "en": "Pricing"},
        {"ru": "Тарифы, сравнение, призыв к заказу.", "en": "Plans, comparison and sign-up."},
        {"designer": "5", "frontend": "4", "backend": "1", "copywriter": "1.5"},
    ),
]

_CATEGORIES = {
    "analysis": {"ru": "Аналитика", "en": "Analysis"},
    "design": {"ru": "Дизайн", "en": "Design"},
    "development": {"ru": "Разработка", "en": "Development"},
    "integrations": {"ru": "Интеграции", "en": "Integrations"},
    "content": {"ru": "Контент", "en": "Content"},
    "seo": {"ru": "Продвижение", "en": "Search and marketing"},
    "launch": {"ru": "Запуск и сопровождение", "en": "Launch and support"},
    "management": {"ru": "Управление проектом", "en": "Project management"},
}

# code, names, category, unit, hours per unit, (RUB price, EUR price) or None for "from hours",
# (RUB, EUR) external cost per unit, default quantity, optional, stage, client descriptions
SERVICES: list[tuple[Any, ...]] = [
    (
        "analysis", {"ru": "Аналитика и прототипирование", "en": "Analysis and wireframes"},
        "analysis", "fixed", {"analyst": "16", "pm": "4"}, None, (0, 0), "1", False, "analysis",
        {
            "ru": "Интервью, структура сайта, прототипы ключевых страниц.",
            "en": "Interviews, site map and wireframes of the key pages.",
        },
    ),
    (
        "design_concept", {"ru": "Дизайн-концепция", "en": "Design concept"}, "design", "fixed",
        {"designer": "16"}, None, (0, 0), "1", False, "",
        {
            "ru": "Две стилистические концепции на выбор, UI-кит.",
            "en": "Two style directions to choose from and a UI kit.",
        },
    ),
    (
        "adaptive", {"ru": "Адаптивная вёрстка", "en": "Responsive layout"}, "development",
        "fixed", {"frontend": "16"}, None, (0, 0), "1", False, "",
        {
            "ru": "Сайт удобен на телефонах и планшетах.",
            "en": "The site works well on phones and tablets.",
        },
    ),
    (
        "cms_setup", {"ru": "Установка и настройка CMS", "en": "CMS installation and setup"},
        "development", "fixed", {"backend": "8"}, None, (0, 0), "1", False, "",
        {
            "ru": "Система управления сайтом, права, обучение.",
            "en": "Content management system, permissions and training.",
        },
    ),
    (
        "cart_logic", {"ru": "Логика корзины и заказа", "en": "Cart and order logic"},
        "development", "fixed", {"backend": "24", "frontend": "8"}, None, (0, 0), "1", False, "",
        {
            "ru": "Расчёт заказа, скидки, письма о заказе.",
            "en": "Order totals, discounts and order emails.",
        },
    ),
    (
        "payment_integration", {"ru": "Подключение онлайн-оплаты", "en": "Online payment"},
        "integrations", "fixed", {"backend": "16"}, None, (0, 0), "1", False, "",
        {
            "ru": "Приём оплаты картой через платёжный сервис.",
            "en": "Card payments through a payment provider.",
        },
    ),
    (
        "crm_integration", {"ru": "Интеграция с CRM", "en": "CRM integration"}, "integrations",
        "fixed", {"backend": "20"}, None, (0, 0), "1", False, "",
        {"ru": "Заявки и заказы уходят в вашу CRM.", "en": "Leads and orders flow into your CRM."},
    ),
    (
        "integration_1c", {"ru": "Обмен с 1С", "en": "Accounting system (1C) exchange"},
        "integrations", "fixed", {"backend": "40"}, None, (0, 0), "1", False, "",
        {
            "ru": "Товары, цены и остатки из 1С, заказы в 1С.",
            "en": "Products, prices and stock in, orders out.",
        },
    ),
    (
        "multilingual", {"ru": "Мультиязычность", "en": "Multilingual site"}, "development",
        "fixed", {"backend": "12", "frontend": "4"}, None, (0, 0), "1", False, "",
        {
            "ru": "Переключение языков, перевод интерфейса.",
            "en": "Language switcher and translated interface.",
        },
    ),
    (
        "site_search", {"ru": "Поиск по сайту", "en": "Site search"}, "development", "fixed",
        {"backend": "12", "frontend": "4"}, None, (0, 0), "1", False, "",
        {"ru": "Быстрый поиск с подсказками.", "en": "Fast search with suggestions."},
    ),
    (
        "booking", {"ru": "Онлайн-запись", "en": "Online booking"}, "development", "fixed",
        {"backend": "32", "frontend": "12", "designer": "6"}, None, (0, 0), "1", False, "",
        {
            "ru": "Расписание, выбор времени, подтверждение.",
            "en": "Schedule, time slots and confirmations.",
        },
    ),
    (
        "calculator", {"ru": "Калькулятор стоимости", "en": "Price calculator"}, "development",
        "fixed", {"backend": "16", "frontend": "12", "designer": "4"}, None, (0, 0), "1", False,
        "",
        {
            "ru": "Клиент сам считает стоимость и оставляет заявку.",
            "en": "Visitors price their order and send a request.",
        },
    ),
    (
        "catalog_import", {"ru": "Импорт товаров", "en": "Product import"}, "development",
        "fixed", {"backend": "16"}, None, (0, 0), "1", False, "",
        {
            "ru": "Загрузка каталога из файла или учётной системы.",
            "en": "Catalogue upload from a file or an accounting system.",
        },
    ),
    (
        "copywriting", {"ru": "Написание текстов", "en": "Copywriting"}, "content", "page",
        {"copywriter": "3"}, None, (0, 0), "5", False, "",
        {"ru": "Продающие тексты для страниц сайта.", "en": "Selling copy for the site's pages."},
    ),
    (
        "content_upload",
        {"ru": "Наполнение каталога (10 товаров)", "en": "Catalogue filling (10 products)"},
        "content", "piece", {"copywriter": "2"}, None, (0, 0), "10", False, "",
        {
            "ru": "Фото, описания, характеристики — за каждые 10 товаров.",
            "en": "Photos, descriptions and specifications, per 10 products.",
        },
    ),
    (
        "content_migration",
        {"ru": "Перенос контента со старого сайта", "en": "Content migration from the old site"},
        "content", "fixed", {"copywriter": "12", "backend": "8"}, None, (0, 0), "1", True, "",
        {
            "ru": "Перенос страниц и редиректы со старых адресов.",
            "en": "Pages moved over with redirects from the old addresses.",
        },
    ),
    (
        "seo_basic", {"ru": "Базовая SEO-настройка", "en": "Basic SEO setup"}, "seo", "fixed",
        {"seo": "12"}, None, (0, 0), "1", False, "",
        {
            "ru": "Метатеги, карта сайта, подключение аналитики.",
            "en": "Meta tags, sitemap and analytics.",
        },
    ),
    (
        "testing", {"ru": "Тестирование", "en": "Testing"}, "launch", "fixed", {"qa": "16"}, None,
        (0, 0), "1", False, "",
        {
            "ru": "Проверка в браузерах и на устройствах.",
            "en": "Checks across browsers and devices.",
        },
    ),
    (
        "launch", {"ru": "Запуск сайта", "en": "Launch"}, "launch", "fixed", {"devops": "6"},
        None, (0, 0), "1", False, "",
        {
            "ru": "Перенос на сервер, SSL, резервные копии.",
            "en": "Deployment, SSL certificate and backups.",
        },
    ),
    (
        "project_management", {"ru": "Управление проектом", "en": "Project management"},
        "management", "hour", {"pm": "1"}, None, (0, 0), "20", False, "",
        {
            "ru": "Планирование, встречи, отчёты о ходе работ.",
            "en": "Planning, meetings and progress reports.",
        },
    ),
    (
        "hosting", {"ru": "Хостинг на год", "en": "Hosting, one year"}, "launch", "fixed", {},
        (12000, 180), (9000, 120), "1", True, "",
        {
            "ru": "Надёжный хостинг с резервным копированием.",
            "en": "Reliable hosting with daily backups.",
        },
    ),
    (
        "support", {"ru": "Техническая поддержка", "en": "Support and maintenance"}, "launch",
        "month", {"backend": "4"}, (25000, 450), (0, 0), "3", True, "management",
        {
            "ru": "Обновления, мелкие доработки, мониторинг.",
            "en": "Updates, small changes and monitoring.",
        },
    ),
]

# code, names, descriptions, pages (slug, quantity, children), services (code, quantity)
PACKAGES: list[tuple[Any, ...]] = [
    (
        "landing", {"ru": "Лендинг", "en": "Landing page"},
        {
            "ru": "Одна продающая страница с формой заявки.",
            "en": "One selling page with an enquiry form.",
        },
        [("home", "1", [])],
        [
            ("design_concept", "1"), ("adaptive", "1"), ("cms_setup", "1"), ("testing", "1"),
            ("launch", "1"), ("project_management", "8"),
        ],
    ),
    (
        "corporate", {"ru": "Корпоративный сайт", "en": "Corporate website"},
        {
            "ru": "Сайт компании с услугами, портфолио и блогом.",
            "en": "Company site with services, portfolio and a blog.",
        },
        [
            ("home", "1", []), ("about", "1", []), ("services", "1", [("service_page", "4", [])]),
            ("portfolio", "1", []), ("blog", "1", [("article", "1", [])]), ("contacts", "1", []),
        ],
        [
            ("analysis", "1"), ("design_concept", "1"), ("adaptive", "1"), ("cms_setup", "1"),
            ("copywriting", "8"), ("seo_basic", "1"), ("testing", "1"), ("launch", "1"),
            ("project_management", "30"),
        ],
    ),
    (
        "online_store", {"ru": "Интернет-магазин", "en": "Online store"},
        {
            "ru": "Каталог, корзина, оплата и личный кабинет.",
            "en": "Catalogue, cart, payment and customer accounts.",
        },
        [
            ("home", "1", []), ("catalog", "1", [("product", "1", [])]), ("cart", "1", []),
            ("checkout", "1", []), ("account", "1", []), ("about", "1", []), ("faq", "1", []),
            ("contacts", "1", []),
        ],
        [
            ("analysis", "1"), ("design_concept", "1"), ("adaptive", "1"), ("cms_setup", "1"),
            ("cart_logic", "1"), ("payment_integration", "1"), ("catalog_import", "1"),
            ("content_upload", "10"), ("seo_basic", "1"), ("testing", "1"), ("launch", "1"),
            ("project_management", "50"), ("hosting", "1"), ("support", "3"),
        ],
    ),
]

# Notes of the shipped rules, in both languages.
EVERY_PROJECT = {"ru": "Нужно в любом проекте", "en": "Every project"}
SHOP_PACKAGE = {
    "ru": "Магазин начинаем с пакета «Интернет-магазин»",
    "en": "A shop starts from the online store package",
}
PICKED_PAGES = {"ru": "Каждая страница, которую выбрал клиент", "en": "Each page the client picked"}
EVERY_LANGUAGE = {"ru": "Тексты на каждом языке", "en": "Content for every language"}
LARGE_CATALOGUE = {
    "ru": "Большой каталог импортируем, а не вбиваем руками",
    "en": "Large catalogues are imported, not typed in",
}
PER_TEN_PRODUCTS = {"ru": "Одна единица на 10 товаров", "en": "One unit per 10 products"}
NO_TEXTS = {"ru": "У клиента нет текстов", "en": "The client has no texts"}
SOME_TEXTS = {"ru": "Часть текстов у клиента есть", "en": "The client has some texts"}
OFFER_MIGRATION = {
    "ru": "Редизайн: предложить перенос старого контента",
    "en": "Redesign: offer to move the old content",
}
KEEP_CONTENT = {
    "ru": "Редизайн: клиент хочет сохранить старый контент",
    "en": "Redesign: the client wants the old content kept",
}
OFFERED = {"ru": "Предлагаем всем", "en": "Offered to everyone"}

# question key, operator, value, action, target, amount, from answer, optional, note and,
# optionally, the key of the default brief template the rule is limited to
RULES: list[tuple[Any, ...]] = [
    ("", "always", "", "add_service", "analysis", "1", False, False, EVERY_PROJECT),
    ("", "always", "", "add_service", "design_concept", "1", False, False, EVERY_PROJECT),
    ("", "always", "", "add_service", "adaptive", "1", False, False, EVERY_PROJECT),
    ("", "always", "", "add_service", "cms_setup", "1", False, False, EVERY_PROJECT),
    ("", "always", "", "add_service", "testing", "1", False, False, EVERY_PROJECT),
    ("", "always", "", "add_service", "launch", "1", False, False, EVERY_PROJECT),
    ("", "always", "", "add_service", "project_management", "20", False, False, EVERY_PROJECT),
    (
        "features", "contains", "cart", "set_option", "online_store", "1", False, False,
        SHOP_PACKAGE,
    ),
    (
        "pages", "answered", "", "add_pages_from_answer", "", "1", False, False,
        PICKED_PAGES,
    ),
    ("features", "contains", "catalog", "add_page", "catalog", "1", False, False, ""),
    ("features", "contains", "catalog", "add_page", "product", "1", False, False, ""),
    ("features", "contains", "cart", "add_page", "cart", "1", False, False, ""),
    ("features", "contains", "cart", "add_page", "checkout", "1", False, False, ""),
    ("features", "contains", "cart", "add_service", "cart_logic", "1", False, False, ""),
    (
        "features", "contains", "online_payment", "add_service", "payment_integration", "1",
        False, False, "",
    ),
    ("features", "contains", "account", "add_page", "account", "1", False, False, ""),
    (
        "features", "contains", "integrations_crm", "add_service", "crm_integration", "1", False,
        False, "",
    ),
    (
        "features", "contains", "integrations_1c", "add_service", "integration_1c", "1", False,
        False, "",
    ),
    ("features", "contains", "multilingual", "add_service", "multilingual", "1", False, False, ""),
    (
        "languages_count", "gte", "2", "multiply_role", "copywriter", "1", True, False,
        EVERY_LANGUAGE,
    ),
    ("features", "contains", "search", "add_service", "site_search", "1", False, False, ""),
    ("features", "contains", "blog", "add_page", "blog", "1", False, False, ""),
    ("features", "contains", "blog", "add_page", "article", "1", False, False, ""),
    ("features", "contains", "booking", "add_service", "booking", "1", False, False, ""),
    ("features", "contains", "calculator", "add_service", "calculator", "1", False, False, ""),
    (
        "products_count", "gte", "300", "add_service", "catalog_import", "1", False, False,
        LARGE_CATALOGUE, "store",
    ),
    (
        "products_count", "gte", "1", "add_service", "content_upload", "0.1", True, False,
        PER_TEN_PRODUCTS, "store",
    ),
    (
        "content_ready", "is", "none", "add_service", "copywriting", "5", False, False,
        NO_TEXTS,
    ),
    (
        "content_ready", "is", "partial", "add_service", "copywriting", "2", False, False,
        SOME_TEXTS,
    ),
    (
        "existing_site", "answered", "", "add_service", "content_migration", "1", False, True,
        OFFER_MIGRATION, "redesign",
    ),
    (
        "keep_content", "is", "yes", "add_service", "content_migration", "1", False, False,
        KEEP_CONTENT, "redesign",
    ),
    ("", "always", "", "add_service", "seo_basic", "1", False, True, OFFERED),
    ("", "always", "", "add_service", "hosting", "1", False, True, OFFERED),
]


def _pick(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts["en"]


def page_line(slug: str, quantity: str, children: list, language: str) -> dict[str, Any]:
    """The line dict (``services.line_to_dict`` format) of a default page type."""
    _slug, names, descriptions, work = next(item for item in PAGE_TYPES if item[0] == slug)
    return {
        "kind": "page",
        "code": slug,
        "name": _pick(names, language),
        "description": _pick(descriptions, language),
        "category": "",
        "unit": "page",
        "quantity": quantity,
        "unit_price": None,
        "work": dict(work),
        "unit_cost": "0",
        "discount_percent": "0",
        "is_optional": False,
        "is_selected": True,
        "stage": "",
        "children": [page_line(*child, language) for child in children],
    }


def service_line(code: str, quantity: str, currency_index: int, language: str) -> dict[str, Any]:
    """The line dict of a default service; currency_index 0 is RUB, 1 is EUR."""
    item = next(item for item in SERVICES if item[0] == code)
    _code, names, category, unit, work, prices, costs, _qty, optional, stage, descriptions = item
    return {
        "kind": "service",
        "code": code,
        "name": _pick(names, language),
        "description": _pick(descriptions, language),
        "category": _pick(_CATEGORIES[category], language),
        "unit": unit,
        "quantity": quantity,
        "unit_price": None if prices is None else str(prices[currency_index]),
        "work": dict(work),
        "unit_cost": str(costs[currency_index]),
        "discount_percent": "0",
        "is_optional": optional,
        "is_selected": not optional,
        "stage": stage,
        "children": [],
    }


PRICE_LISTS = [
    # default_key, names, currency, language, index of the currency in the tuples above
    ("default-rub", "Основной прайс-лист", "RUB", "ru", 0),
    ("default-eur", "Standard price list", "EUR", "en", 1),
]
# fmt: on


def load_price_lists(
    PriceList: Any,
    Role: Any,
    Service: Any,
    PageType: Any,
    Package: Any,  # noqa: N803
) -> list[Any]:
    """Create the shipped price lists that do not exist yet; returns the ones created."""
    created = []
    for default_key, name, currency, language, index in PRICE_LISTS:
        if PriceList.objects.filter(default_key=default_key).exists():
            continue
        price_list = PriceList.objects.create(
            name=name, currency=currency, language=language, default_key=default_key
        )
        created.append(price_list)
        for position, (code, names, stage, *rates, hours_per_day) in enumerate(ROLES):
            Role.objects.create(
                price_list=price_list,
                code=code,
                name=_pick(names, language),
                hourly_rate=D(rates[2 * index]),
                cost_rate=D(rates[2 * index + 1]),
                hours_per_day=D(hours_per_day),
                stage=stage,
                position=position,
            )
        for position, (slug, names, descriptions, work) in enumerate(PAGE_TYPES):
            PageType.objects.create(
                price_list=price_list,
                slug=slug,
                name=_pick(names, language),
                description=_pick(descriptions, language),
                work=dict(work),
                position=position,
            )
        for position, item in enumerate(SERVICES):
            code, names, category, unit, work, prices, costs, quantity, optional, stage, texts = (
                item
            )
            Service.objects.create(
                price_list=price_list,
                code=code,
                name=_pick(names, language),
                category=_pick(_CATEGORIES[category], language),
                unit=unit,
                price=None if prices is None else D(prices[index]),
                work=dict(work),
                unit_cost=D(costs[index]),
                default_quantity=D(quantity),
                description=_pick(texts, language),
                is_optional=optional,
                stage=stage,
                position=position,
            )
        for position, (code, names, descriptions, pages, services) in enumerate(PACKAGES):
            content = [page_line(*page, language) for page in pages] + [
                service_line(service_code, quantity, index, language)
                for service_code, quantity in services
            ]
            Package.objects.create(
                price_list=price_list,
                code=code,
                name=_pick(names, language),
                description=_pick(descriptions, language),
                content=content,
                position=position,
            )
    return created


def shipped_note(note: str, language: str) -> str:
    """A shipped rule's note in ``language`` (the notes were written in the studio's
    language when the rules were loaded); any other note as the studio wrote it."""
    for rule in RULES:
        texts = rule[8]
        if isinstance(texts, dict) and note in texts.values():
            return _pick(texts, language)
    return note


def load_rules(EstimateRule: Any, language: str = "ru") -> int:  # noqa: N803
    """Create the shipped rules when the studio has none; returns how many were made.
    Their notes are written in ``language``."""
    if EstimateRule.objects.exists():
        return 0
    for position, rule in enumerate(RULES):
        key, operator, value, action, target, amount, from_answer, optional, note = rule[:9]
        EstimateRule.objects.create(
            template_key=rule[9] if len(rule) > 9 else "",
            position=position * 10,
            question_key=key,
            operator=operator,
            value=value,
            action=action,
            target=target,
            amount=D(amount),
            amount_from_answer=from_answer,
            optional=optional,
            note=_pick(note, language) if isinstance(note, dict) else note,
        )
    return len(RULES)
