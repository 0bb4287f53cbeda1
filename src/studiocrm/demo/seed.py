"""The demo studio: a Russian web studio with about thirty deals, each made step by step
through the services of every app, the way a manager and a client would make it.

``create_demo`` fills an empty installation; the ``seed_demo`` command calls it once and
prints the logins. Every deal follows a ``Story``: the lead comes in (the web form or a
manager typing it in), the brief is sent, opened, answered and submitted, the estimate is
drafted from the brief and saved, the proposal is sent, opened and accepted, the contract
and its appendix are sent and signed, invoices are issued from the payment schedule and bank
transfers are recorded, each story stopping at its own step (or lost, with a reason).

Time. Services stamp what they do with the real clock, and some of those stamps are part of
what a client signed (the acceptance record is hashed) or printed on numbered documents
(contract and invoice dates). Those are never moved: from the proposal on, every step of a
story happens at the moment the demo is created. The steps before it (the lead, the brief,
the estimate) are moved into the past afterwards (``Timeline``), so deal lists, stage
histories and the "similar won deals" durations look like weeks of real work. Historical won
deals therefore stop before documents: their estimates feed the similar-deals median, and
a note says their papers were done before the studio moved to studiocrm.
"""

from __future__ import annotations

import random
import secrets
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone, translation

from studiocrm.billing import payments as billing_payments
from studiocrm.billing import services as billing_services
from studiocrm.billing.models import Invoice, ProviderAccount
from studiocrm.billing.services import save_provider_account
from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import Brief, BriefTemplate
from studiocrm.clients.forms import ClientForm, ContactForm
from studiocrm.clients.models import Client, Contact
from studiocrm.clients.services import match_or_create_contact, save_client, save_contact
from studiocrm.core.forms import StudioForm
from studiocrm.core.models import Studio, User
from studiocrm.core.services import update_studio
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import PAID, Deal, Note, Source, StageChange, Task
from studiocrm.demo.history import seed_history
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Document, Kind
from studiocrm.documents.rendering import render_document
from studiocrm.estimates import drafting
from studiocrm.estimates import services as estimate_services
from studiocrm.estimates.models import Estimate, EstimateLine, EstimateOption, Service
from studiocrm.intake.services import LeadData, submit_lead
from studiocrm.notifications.models import Outbox
from studiocrm.portal.links import record_view

CREDENTIALS_FILE = "demo-credentials.txt"
SEED = 42

# The studio: a fictional company with details in valid formats (INN and OGRN with correct
# check digits, a 9-digit BIC, accounts whose control keys match the BIC), so invoices get
# a payment QR code and documents have every field filled.
STUDIO_PROFILE = {
    "name": "Студия «Кварц»",
    "legal_name": "ООО «Кварц Диджитал»",
    "tax_id": "7708123450",
    "registration_number": "1217700123453",
    "address": "105005, г. Москва, ул. Бауманская, д. 58/25, стр. 14, офис 3",
    "email": "hello@kvarts.example",
    "phone": "+7 495 000-12-34",
    "website": "https://kvarts.example",
    "bank_name": "АО «Демо Банк», г. Москва",
    "bank_account": "40702810338000012345",
    "bank_code": "044525999",
    "correspondent_account": "30101810600000000999",
    "default_currency": "RUB",
    "locale": "ru",
    "time_zone": "Europe/Moscow",
    "tax_mode": Studio.TaxMode.NO_VAT,
    "vat_rate": "0",
    "assignment_rule": Studio.Assignment.ROUND_ROBIN,
}

# username, email, first name, last name, role
USERS = [
    ("owner", "owner@kvarts.example", "Ольга", "Миронова", User.Role.OWNER),
    ("anna", "anna@kvarts.example", "Анна", "Лебедева", User.Role.MANAGER),
    ("boris", "boris@kvarts.example", "Борис", "Иванов", User.Role.MANAGER),
]


# --- what a story is made of ------------------------------------------------------------------


@dataclass(frozen=True)
class Company:
    """A client and its contact person. Legal details are filled before the contract."""

    name: str
    contact: str
    email: str
    phone: str = ""
    position: str = ""
    kind: str = Client.Kind.COMPANY
    legal: dict[str, str] = field(default_factory=dict)


# The steps of the sales path, in order. A story goes along them up to its goal.
LEAD = "lead"
BRIEF_SENT = "brief_sent"
BRIEF_OPENED = "brief_opened"
BRIEF_SUBMITTED = "brief_submitted"
ESTIMATED = "estimated"
PROPOSAL_SENT = "proposal_sent"
PROPOSAL_VIEWED = "proposal_viewed"
PROPOSAL_ACCEPTED = "proposal_accepted"
CONTRACT_SENT = "contract_sent"
CONTRACT_VIEWED = "contract_viewed"
CONTRACT_SIGNED = "contract_signed"
INVOICED = "invoiced"
INVOICE_VIEWED = "invoice_viewed"
PART_PAID = "part_paid"
DEPOSIT_PAID = "deposit_paid"
PAID_IN_FULL = "paid_in_full"
PATH = [
    LEAD,
    BRIEF_SENT,
    BRIEF_OPENED,
    BRIEF_SUBMITTED,
    ESTIMATED,
    PROPOSAL_SENT,
    PROPOSAL_VIEWED,
    PROPOSAL_ACCEPTED,
    CONTRACT_SENT,
    CONTRACT_VIEWED,
    CONTRACT_SIGNED,
    INVOICED,
    INVOICE_VIEWED,
    PART_PAID,
    DEPOSIT_PAID,
    PAID_IN_FULL,
]
# Steps that may be moved into the past (see the module docstring).
BEFORE_DOCUMENTS = {LEAD, BRIEF_SENT, BRIEF_OPENED, BRIEF_SUBMITTED, ESTIMATED}


@dataclass(frozen=True)
class Story:
    """One deal of the demo: who, what they asked for, and how far it went."""

    key: str
    company: Company
    message: str
    project: str  # the brief template: store, corporate, landing or redesign
    goal: str  # the last step of PATH the deal reaches
    days_ago: float  # when the lead came in
    pace: float = 1.5  # days between the steps before documents
    channel: str = Source.WEBSITE  # website/api come through intake; others a manager types in
    manager: str = ""  # username of the manager who typed the lead in
    title: str = ""  # a typed-in deal's title (intake derives its own)
    budget: Decimal | None = None
    language: str = "ru"
    currency: str = "RUB"
    answers: dict[str, Any] = field(default_factory=dict)
    skip: frozenset[str] = frozenset()  # views this story does not have (the client never
    # opened the proposal, say)
    extra_options: str = ""  # "store_variants": the estimate gets two more options
    choice: int = 0  # the option the client accepts (index in the estimate's order)
    extras: tuple[str, ...] = ()  # codes of optional services the client adds
    reopen_comment: str = ""  # the manager reopens the submitted brief asking for this
    won: bool = False  # historical: the manager closed it as paid (papers done elsewhere)
    lost_reason: str = ""
    closed_days_ago: float | None = None  # when a won or lost deal that stopped before
    # documents was closed (one that had documents closes now, as its documents did)
    notes: tuple[str, ...] = ()
    tasks: tuple[tuple[str, str], ...] = ()  # (title, "overdue" | "today" | "tomorrow")

    def steps(self) -> list[str]:
        """The steps of PATH up to the goal. Optional steps on the way are taken unless
        skipped; a partial payment only when it is the goal."""
        steps = []
        for step in PATH[: PATH.index(self.goal) + 1]:
            if step in self.skip or (step == PART_PAID and self.goal != PART_PAID):
                continue
            steps.append(step)
        return steps


# --- the brief answers --------------------------------------------------------------------------


def store_answers(
    company: str,
    activity: str,
    goal: str,
    products: int,
    features: list[str],
    *,
    content: str = "partial",
    budget: str = "700k_1500k",
    comments: str = "",
    audience: str = "",
    references: str = "",
) -> dict[str, Any]:
    return {
        "company": company,
        "activity": activity,
        "goal": goal,
        "audience": audience,
        "pages": ["home", "catalog", "product", "cart", "checkout", "about", "faq", "contacts"],
        "features": features,
        "products_count": str(products),
        "payment_methods": ["card", "invoice"],
        "delivery": "yes",
        "content_ready": content,
        "has_brandbook": "yes",
        "design_references": references,
        "deadline": 120,
        "budget": budget,
        "comments": comments,
    }


def corporate_answers(
    company: str,
    activity: str,
    goal: str,
    pages: list[str],
    features: list[str],
    *,
    content: str = "partial",
    budget: str = "300k_700k",
    comments: str = "",
) -> dict[str, Any]:
    return {
        "company": company,
        "activity": activity,
        "goal": goal,
        "pages": pages,
        "features": features,
        "content_ready": content,
        "has_brandbook": "no",
        "deadline": 75,
        "budget": budget,
        "comments": comments,
    }


def landing_answers(
    company: str, offer: str, goal: str, features: list[str], *, budget: str = "lt_300k"
) -> dict[str, Any]:
    return {
        "company": company,
        "landing_offer": offer,
        "goal": goal,
        "pages": ["home", "faq", "contacts"],
        "features": features,
        "traffic": ["ads", "social"],
        "content_ready": "none",
        "has_brandbook": "yes",
        "deadline": 30,
        "budget": budget,
    }


# The online store brief of the "brief received" deal, answered in full as a real shop would.
GARDEN_STORE = {
    "company": "Зелёный сад",
    "activity": (
        "Продаём семена, саженцы и садовый инвентарь. Два розничных магазина в Подмосковье "
        "и оптовые поставки садовым центрам."
    ),
    "goal": (
        "Запустить интернет-магазин с доставкой по Московской области и самовывозом из наших "
        "магазинов. Через год хотим продавать через сайт не меньше трети оборота."
    ),
    "audience": (
        "Дачники 35–65 лет, чаще женщины; весной — частные ландшафтные дизайнеры. Покупают "
        "с телефона, многие приходят по совету знакомых."
    ),
    "competitors": (
        "semena-i-sad.example — удобный каталог, но сайт медленный; "
        "sadovod.example — нравится подбор растений по условиям участка."
    ),
    "pages": [
        "home",
        "catalog",
        "product",
        "cart",
        "checkout",
        "account",
        "about",
        "blog",
        "article",
        "faq",
        "contacts",
    ],
    "features": [
        "catalog",
        "cart",
        "online_payment",
        "account",
        "integrations_1c",
        "search",
        "blog",
    ],
    "products_count": "1200",
    "payment_methods": ["card", "invoice", "cash"],
    "delivery": "yes",
    "content_ready": "partial",
    "has_brandbook": "yes",
    "design_references": (
        "Нравится подача у крупных онлайн-гипермаркетов: большие фото, мало текста, корзина "
        "всегда на виду. Цвета — зелёный и белый, как в наших магазинах."
    ),
    "deadline": 120,
    "budget": "700k_1500k",
    "comments": (
        "Остатки и цены ведём в 1С:Розница — их нужно выгружать на сайт раз в час. "
        "Весной пик заказов, сайт должен выдерживать нагрузку."
    ),
}

NORTHWIND_REDESIGN = {
    "company": "Northwind Traders",
    "existing_site": "https://northwind-traders.example",
    "redesign_problems": (
        "The site is eight years old, does not work on phones and our team cannot change a "
        "page without a developer. Enquiries from the site have halved in two years."
    ),
    "goal": "Win wholesale enquiries from European food retailers.",
    "audience": "Buyers at delicatessen chains and independent food shops in the EU.",
    "pages": ["home", "about", "catalog", "product", "blog", "article", "contacts", "faq"],
    "features": ["catalog", "multilingual", "search", "integrations_crm"],
    "languages_count": "3",
    "keep_content": "yes",
    "content_ready": "partial",
    "has_brandbook": "yes",
    "design_references": "Clean, generous photography, like the best coffee roasters' sites.",
    "deadline": 150,
    "budget": "15k_40k",
    "comments": "English, German and French. Enquiries must land in our HubSpot account.",
}


# --- the deals ----------------------------------------------------------------------------------


def _ooo(name: str, inn: str, ogrn: str, address: str, director: str) -> dict[str, str]:
    return {
        "legal_name": f"ООО «{name}»",
        "tax_id": inn,
        "registration_number": ogrn,
        "address": address,
        "signatory_name": director,
        "signatory_position": "Генеральный директор",
        "signatory_basis": "Устава",
    }


STORIES: list[Story] = [
    # A new lead from the web form, this morning.
    Story(
        key="new_web_lead",
        company=Company("Кофейня «Бодрое утро»", "Мария Гусева", "maria@bodroe-utro.example"),
        message=(
            "Нужен сайт для сети из трёх кофеен: меню, адреса, онлайн-заказ навынос. "
            "Хотим запуститься к лету."
        ),
        project="corporate",
        goal=LEAD,
        days_ago=0.2,
        budget=Decimal("350000"),
        tasks=(("Позвонить Марии: уточнить задачу и отправить бриф", "today"),),
    ),
    Story(
        key="new_phone_lead",
        company=Company("Автосервис «Гараж 24»", "Сергей Николаев", "", "+7 916 555-24-24"),
        message="Звонил владелец: нужен сайт с онлайн-записью на ремонт и калькулятором.",
        project="corporate",
        goal=LEAD,
        days_ago=1.3,
        channel=Source.PHONE,
        manager="boris",
        title="Автосервис «Гараж 24» — сайт с онлайн-записью",
        tasks=(("Попросить email, чтобы отправить бриф", "overdue"),),
    ),
    Story(
        key="new_api_lead",
        company=Company(
            "Школа английского «Speak Up»", "Елена Орлова", "elena@speakup-school.example"
        ),
        message="Лендинг для летнего интенсива, трафик из соцсетей. Бюджет небольшой.",
        project="landing",
        goal=LEAD,
        days_ago=0.6,
        channel=Source.API,
        budget=Decimal("120000"),
    ),
    # Brief sent: opened, half answered, the reminder is already overdue.
    Story(
        key="brief_sent",
        company=Company(
            "Стоматология «Улыбка»",
            "Наталья Белова",
            "belova@ulybka-dent.example",
            "+7 903 111-22-33",
        ),
        message="Лендинг для имплантации зубов под рекламу в Яндексе.",
        project="landing",
        goal=BRIEF_OPENED,
        days_ago=6,
        pace=1.0,
        channel=Source.PHONE,
        manager="anna",
        title="Стоматология «Улыбка» — лендинг имплантации",
        answers={
            "company": "Стоматология «Улыбка»",
            "landing_offer": "Имплантация под ключ с гарантией 10 лет, рассрочка без переплаты.",
        },
        notes=("Клиент открыл бриф, но пока заполнил только первые вопросы.",),
    ),
    Story(
        key="brief_submitted",
        company=Company(
            "ООО «Зелёный сад»", "Ирина Петрова", "irina@zeleny-sad.example", "+7 926 123-45-67"
        ),
        message=(
            "Хотим интернет-магазин семян и садового инвентаря с доставкой по области и "
            "выгрузкой из 1С. Сейчас продаём только в розницу."
        ),
        project="store",
        goal=BRIEF_SUBMITTED,
        days_ago=5,
        pace=2.0,
        budget=Decimal("1000000"),
        answers=GARDEN_STORE,
        tasks=(("Разобрать бриф «Зелёного сада» и подготовить смету", "today"),),
    ),
    Story(
        key="brief_submitted_corporate",
        company=Company(
            "Юридическая фирма «Право и Дело»", "Андрей Ковалёв", "kovalev@pravo.example"
        ),
        message="Сайт юридической фирмы: услуги, команда, кейсы, заявка на консультацию.",
        project="corporate",
        goal=BRIEF_SUBMITTED,
        days_ago=4,
        pace=1.5,
        channel=Source.REFERRAL,
        manager="boris",
        title="«Право и Дело» — корпоративный сайт",
        answers=corporate_answers(
            "Право и Дело",
            "Корпоративное и арбитражное право для малого и среднего бизнеса.",
            "Заявки на консультацию и доверие к фирме.",
            ["home", "about", "services", "service_page", "portfolio", "blog", "contacts"],
            ["blog", "integrations_crm"],
        ),
    ),
    Story(
        key="brief_reopened",
        company=Company("Фотостудия «Кадр»", "Денис Шестаков", "shestakov@kadr-photo.example"),
        message="Сайт-портфолио фотостудии с онлайн-бронированием залов.",
        project="corporate",
        goal=BRIEF_SUBMITTED,
        days_ago=7,
        pace=2.0,
        answers=corporate_answers(
            "Кадр",
            "Аренда фотозалов и съёмки для брендов.",
            "Бронирование залов онлайн.",
            ["home", "about", "services", "portfolio", "pricing", "contacts"],
            ["booking", "online_payment"],
        ),
        reopen_comment=(
            "Пришлите, пожалуйста, два-три сайта, которые вам нравятся, и уточните, нужна ли "
            "английская версия — от этого зависит смета."
        ),
    ),
    # Estimated: drafted from the brief, three options, saved.
    Story(
        key="estimated",
        company=Company("Мебельная фабрика «Уют»", "Виктор Морозов", "morozov@uyut-mebel.example"),
        message="Интернет-магазин корпусной мебели с доставкой по Москве, около 350 товаров.",
        project="store",
        goal=ESTIMATED,
        days_ago=6,
        pace=1.8,
        budget=Decimal("900000"),
        answers=store_answers(
            "Уют",
            "Производим корпусную мебель: шкафы, кухни, детские.",
            "Продавать через сайт и принимать заказы на мебель по размерам.",
            350,
            ["catalog", "cart", "online_payment", "search", "calculator"],
            content="ready",
            comments="Нужен калькулятор шкафа по размерам.",
        ),
        extra_options="store_variants",
        tasks=(("Созвониться с Виктором и обсудить варианты сметы", "tomorrow"),),
    ),
    Story(
        key="brief_sent_unopened",
        company=Company("ООО «Техноплюс»", "Павел Зайцев", "zaitsev@technoplus.example"),
        message="Обновить корпоративный сайт, старый сделан в 2015 году.",
        project="redesign",
        goal=BRIEF_SENT,
        days_ago=1.2,
        pace=0.2,
    ),
    # The online store brief, submitted with real answers.
    Story(
        key="estimated_landing",
        company=Company("Студия йоги «Прана»", "Алина Фролова", "alina@prana-yoga.example"),
        message="Лендинг с расписанием и онлайн-записью на занятия.",
        project="landing",
        goal=ESTIMATED,
        days_ago=3,
        pace=0.8,
        channel=Source.MESSENGER,
        manager="anna",
        title="Студия йоги «Прана» — лендинг с записью",
        answers=landing_answers(
            "Прана",
            "Первое занятие бесплатно, абонементы со скидкой.",
            "Записывать новичков на пробное занятие.",
            ["booking", "online_payment"],
        ),
    ),
    # Proposal sent and opened by the client.
    Story(
        key="proposal_viewed",
        company=Company(
            "АО «ТехноСервис»",
            "Ольга Кузнецова",
            "kuznetsova@technoservice.example",
            position="Директор по маркетингу",
        ),
        message="B2B-каталог промышленного оборудования с личным кабинетом дилера.",
        project="corporate",
        goal=PROPOSAL_VIEWED,
        days_ago=9,
        pace=2.0,
        budget=Decimal("800000"),
        answers=corporate_answers(
            "ТехноСервис",
            "Поставки и сервис промышленных компрессоров.",
            "Дилеры сами смотрят цены и остатки и оформляют заявки.",
            ["home", "about", "catalog", "product", "account", "contacts", "faq"],
            ["catalog", "account", "search", "integrations_1c"],
            budget="700k_1500k",
        ),
        notes=("Ольга открыла КП в день отправки. Ждём решения совета директоров.",),
        tasks=(("Позвонить Ольге Кузнецовой: есть ли вопросы по КП", "today"),),
    ),
    Story(
        key="proposal_sent",
        company=Company("Клиника «Здоровье+»", "Игорь Лебедев", "lebedev@zdorovie.example"),
        message="Сайт многопрофильной клиники: врачи, услуги, цены, онлайн-запись.",
        project="corporate",
        goal=PROPOSAL_SENT,
        days_ago=7,
        pace=1.5,
        channel=Source.EMAIL,
        manager="boris",
        title="Клиника «Здоровье+» — сайт с онлайн-записью",
        answers=corporate_answers(
            "Здоровье+",
            "Многопрофильная клиника, 40 врачей.",
            "Онлайн-запись к врачу и доверие пациентов.",
            ["home", "about", "services", "service_page", "pricing", "contacts", "faq"],
            ["booking", "search"],
        ),
    ),
    # Proposal accepted: contract and appendix drafted, to be checked and sent.
    Story(
        key="proposal_accepted",
        company=Company(
            "ООО «Стройинвест»",
            "Дмитрий Волков",
            "volkov@stroyinvest.example",
            "+7 495 222-33-44",
            position="Коммерческий директор",
        ),
        message="Корпоративный сайт строительной компании с портфолио объектов.",
        project="corporate",
        goal=PROPOSAL_ACCEPTED,
        days_ago=12,
        pace=2.0,
        channel=Source.REFERRAL,
        manager="boris",
        title="«Стройинвест» — корпоративный сайт",
        answers=corporate_answers(
            "Стройинвест",
            "Строим коммерческую недвижимость в Москве и области.",
            "Показать объекты и получать заявки на тендеры.",
            ["home", "about", "services", "portfolio", "blog", "article", "contacts"],
            ["blog", "search"],
        ),
        extras=("seo_basic",),
        tasks=(("Запросить реквизиты «Стройинвеста» для договора", "overdue"),),
    ),
    # The English-speaking client: contract and appendix sent, awaiting signature.
    Story(
        key="contract_sent_english",
        company=Company(
            "Northwind Traders",
            "Laura Callahan",
            "laura.callahan@northwind-traders.example",
            "+44 20 7946 0321",
            position="Head of Marketing",
            legal={
                "legal_name": "Northwind Traders Ltd",
                "tax_id": "GB 123 4567 89",
                "registration_number": "09876543",
                "address": "12 Harbour Street, Bristol BS1 4RN, United Kingdom",
                "signatory_name": "Laura Callahan",
                "signatory_position": "Head of Marketing",
                "signatory_basis": "a power of attorney",
            },
        ),
        message="Redesign of our corporate website in three languages.",
        project="redesign",
        goal=CONTRACT_VIEWED,
        days_ago=14,
        pace=2.0,
        channel=Source.EMAIL,
        manager="anna",
        title="Northwind Traders — website redesign",
        language="en",
        currency="EUR",
        answers=NORTHWIND_REDESIGN,
        notes=("Лора просила договор на английском; подписывает сама, по доверенности.",),
        tasks=(("Напомнить Лоре о подписании договора", "today"),),
    ),
    Story(
        key="contract_sent",
        company=Company(
            "ООО «Логистик Групп»",
            "Роман Сергеев",
            "sergeev@logistic-group.example",
            legal=_ooo(
                "Логистик Групп",
                "7730123456",
                "1177740012340",
                "121087, г. Москва, Багратионовский пр-д, д. 7, корп. 20",
                "Сергеев Роман Олегович",
            ),
        ),
        message="Сайт транспортной компании с калькулятором доставки.",
        project="corporate",
        goal=CONTRACT_SENT,
        days_ago=16,
        pace=2.5,
        answers=corporate_answers(
            "Логистик Групп",
            "Грузоперевозки по России, склад в Подольске.",
            "Заявки на перевозку с расчётом цены на сайте.",
            ["home", "about", "services", "service_page", "pricing", "contacts"],
            ["calculator", "integrations_crm"],
        ),
    ),
    # Contract and appendix signed by the client.
    Story(
        key="contract_signed",
        company=Company(
            "Фитнес-клуб «Импульс»",
            "Марина Соколова",
            "sokolova@impuls-fit.example",
            "+7 925 777-88-99",
            legal=_ooo(
                "Импульс Фитнес",
                "5032123452",
                "1105030012340",
                "143005, Московская обл., г. Одинцово, ул. Молодёжная, д. 46",
                "Соколова Марина Викторовна",
            ),
        ),
        message="Сайт фитнес-клуба с расписанием групповых занятий и онлайн-оплатой.",
        project="corporate",
        goal=CONTRACT_SIGNED,
        days_ago=18,
        pace=2.5,
        answers=corporate_answers(
            "Импульс",
            "Фитнес-клуб: тренажёрный зал, бассейн, групповые занятия.",
            "Продажа абонементов онлайн и запись на занятия.",
            ["home", "about", "services", "pricing", "blog", "contacts"],
            ["booking", "online_payment"],
        ),
        tasks=(("Выставить счёт на предоплату «Импульсу»", "today"),),
    ),
    # Invoiced: the deposit invoice is issued and opened, not paid yet.
    Story(
        key="invoiced",
        company=Company(
            "ИП Смирнов А. В.",
            "Алексей Смирнов",
            "smirnov@dental-smile.example",
            "+7 999 100-20-30",
            kind=Client.Kind.PERSON,
            legal={
                "legal_name": "Индивидуальный предприниматель Смирнов Алексей Владимирович",
                "tax_id": "500123456750",
                "registration_number": "318500100123455",
                "address": "141400, Московская обл., г. Химки, ул. Московская, д. 21, кв. 5",
                "signatory_name": "Смирнов Алексей Владимирович",
                "signatory_position": "Индивидуальный предприниматель",
                "signatory_basis": "свидетельства о регистрации ИП",
            },
        ),
        message="Лендинг для стоматологического кабинета с записью на приём.",
        project="landing",
        goal=INVOICE_VIEWED,
        days_ago=20,
        pace=2.5,
        channel=Source.PHONE,
        manager="anna",
        title="ИП Смирнов — лендинг стоматологии",
        answers=landing_answers(
            "Дентал Смайл",
            "Лечение и чистка зубов, первая консультация бесплатно.",
            "Записывать пациентов на первую консультацию.",
            ["booking"],
        ),
        tasks=(("Проверить поступление предоплаты от Смирнова", "tomorrow"),),
    ),
    # Part of the deposit arrived by bank transfer.
    Story(
        key="part_paid",
        company=Company(
            "ООО «Агроторг Юг»",
            "Кирилл Назаров",
            "nazarov@agrotorg-yug.example",
            legal=_ooo(
                "Агроторг Юг",
                "2625123458",
                "1122620012349",
                "357500, Ставропольский край, г. Пятигорск, ул. Козлова, д. 14",
                "Назаров Кирилл Андреевич",
            ),
        ),
        message="Интернет-магазин удобрений и средств защиты растений для фермеров.",
        project="store",
        goal=PART_PAID,
        days_ago=22,
        pace=2.5,
        channel=Source.REFERRAL,
        manager="boris",
        title="«Агроторг Юг» — интернет-магазин",
        answers=store_answers(
            "Агроторг Юг",
            "Оптовая и розничная торговля удобрениями.",
            "Принимать заказы фермеров онлайн.",
            480,
            ["catalog", "cart", "account", "integrations_1c"],
            budget="700k_1500k",
        ),
        extra_options="store_variants",
        choice=1,
        extras=("hosting",),
        notes=("Клиент оплатил половину предоплаты, остаток обещает до конца недели.",),
    ),
    # The deposit is paid in full; the second payment is due after acceptance of the work.
    Story(
        key="deposit_paid",
        company=Company(
            "ООО «Пекарня Хлебный дом»",
            "Светлана Ершова",
            "ershova@hlebny-dom.example",
            legal=_ooo(
                "Хлебный дом",
                "7724123458",
                "1197720012346",
                "115230, г. Москва, Варшавское ш., д. 42, помещ. 3",
                "Ершова Светлана Игоревна",
            ),
        ),
        message="Сайт пекарни с каталогом и заказом тортов на дату.",
        project="store",
        goal=DEPOSIT_PAID,
        days_ago=24,
        pace=3.0,
        answers=store_answers(
            "Хлебный дом",
            "Пекарня и кондитерская, четыре точки в Москве.",
            "Заказы тортов и выпечки к празднику с оплатой онлайн.",
            90,
            ["catalog", "cart", "online_payment"],
            budget="300k_700k",
        ),
        skip=frozenset({INVOICE_VIEWED}),
    ),
    # Paid in full: both invoices of the schedule paid by bank transfer.
    Story(
        key="paid",
        company=Company(
            "ООО «Ромашка»",
            "Татьяна Петрова",
            "petrova@romashka-flowers.example",
            legal=_ooo(
                "Ромашка",
                "7715123451",
                "1187710012346",
                "127018, г. Москва, ул. Сущёвский Вал, д. 18",
                "Петрова Татьяна Николаевна",
            ),
        ),
        message="Лендинг доставки цветов к 8 Марта с онлайн-заказом.",
        project="landing",
        goal=PAID_IN_FULL,
        days_ago=26,
        pace=3.0,
        channel=Source.REFERRAL,
        manager="anna",
        title="«Ромашка» — лендинг доставки цветов",
        answers=landing_answers(
            "Ромашка",
            "Букеты к 8 Марта с доставкой за 2 часа.",
            "Принимать и оплачивать заказы букетов онлайн.",
            ["catalog", "online_payment"],
        ),
        notes=("Оплачено полностью. Запросить отзыв после запуска.",),
    ),
    # Lost deals, with reasons.
    Story(
        key="lost_after_proposal",
        company=Company("ООО «Вектор»", "Евгений Соловьёв", "soloviev@vector-it.example"),
        message="Корпоративный сайт IT-интегратора.",
        project="corporate",
        goal=PROPOSAL_VIEWED,
        days_ago=15,
        pace=2.5,
        answers=corporate_answers(
            "Вектор",
            "Внедрение 1С и IT-аутсорсинг.",
            "Заявки от среднего бизнеса.",
            ["home", "about", "services", "service_page", "portfolio", "contacts"],
            ["integrations_crm"],
        ),
        lost_reason="Выбрали студию дешевле: им предложили похожий объём за 420 000 ₽.",
    ),
    Story(
        key="lost_no_answer",
        company=Company("Гостиница «Волна»", "Олег Тихонов", "tikhonov@volna-hotel.example"),
        message="Сайт гостиницы с бронированием номеров.",
        project="corporate",
        goal=BRIEF_SENT,
        days_ago=28,
        pace=1.0,
        channel=Source.EMAIL,
        manager="boris",
        title="Гостиница «Волна» — сайт с бронированием",
        lost_reason="Клиент не отвечает три недели: ни на бриф, ни на звонки.",
        closed_days_ago=6,
    ),
    Story(
        key="lost_budget",
        company=Company("Кафе «Маяк»", "Ксения Павлова", "pavlova@mayak-cafe.example"),
        message="Сайт кафе с меню и доставкой.",
        project="store",
        goal=ESTIMATED,
        days_ago=40,
        pace=2.0,
        answers=store_answers(
            "Маяк",
            "Кафе на набережной.",
            "Заказ доставки еды.",
            60,
            ["catalog", "cart", "online_payment"],
            budget="lt_300k",
        ),
        lost_reason="Бюджет клиента — 150 000 ₽, минимальная смета втрое больше.",
        closed_days_ago=33,
    ),
    Story(
        key="lost_postponed",
        company=Company("ООО «СеверТранс»", "Артём Лазарев", "lazarev@severtrans.example"),
        message="Новый сайт транспортной компании вместо старого.",
        project="corporate",
        goal=BRIEF_SUBMITTED,
        days_ago=55,
        pace=2.0,
        channel=Source.PHONE,
        manager="anna",
        title="«СеверТранс» — новый сайт",
        answers=corporate_answers(
            "СеверТранс",
            "Перевозки грузов по Северо-Западу.",
            "Заявки на перевозки.",
            ["home", "about", "services", "contacts"],
            [],
        ),
        lost_reason="Проект отложили до следующего года: бюджет ушёл на ремонт склада.",
        closed_days_ago=46,
    ),
    # Historical won deals: closed weeks ago; their estimates feed "similar won deals".
    *[
        Story(
            key=f"won_{index}",
            company=Company(name, contact, email, legal=legal),
            message=message,
            project=project,
            goal=ESTIMATED,
            days_ago=days_ago,
            pace=2.0,
            channel=channel,
            manager=manager,
            title=title,
            answers=answers,
            won=True,
            closed_days_ago=won_days_ago,
            notes=(
                "Проект сдан и оплачен полностью. Договор и счета оформляли до перехода на "
                "studiocrm, в 1С.",
            ),
        )
        for index, (
            name,
            contact,
            email,
            legal,
            message,
            project,
            days_ago,
            won_days_ago,
            channel,
            manager,
            title,
            answers,
        ) in enumerate(
            [
                (
                    "ООО «Садовод»",
                    "Галина Юдина",
                    "yudina@sadovod.example",
                    _ooo(
                        "Садовод",
                        "5003123458",
                        "1175000012340",
                        "142700, Московская обл., г. Видное, ул. Школьная, д. 1",
                        "Юдина Галина Петровна",
                    ),
                    "Интернет-магазин товаров для сада.",
                    "store",
                    130,
                    70,
                    Source.WEBSITE,
                    "anna",
                    "«Садовод» — интернет-магазин",
                    store_answers(
                        "Садовод",
                        "Товары для сада и огорода.",
                        "Продажи онлайн.",
                        800,
                        ["catalog", "cart", "online_payment", "integrations_1c"],
                    ),
                ),
                (
                    "ООО «Домашний уют»",
                    "Лариса Волкова",
                    "volkova@dom-uyut.example",
                    _ooo(
                        "Домашний уют",
                        "7810123451",
                        "1077810012345",
                        "196084, г. Санкт-Петербург, Московский пр., д. 79",
                        "Волкова Лариса Сергеевна",
                    ),
                    "Магазин текстиля для дома.",
                    "store",
                    110,
                    52,
                    Source.REFERRAL,
                    "boris",
                    "«Домашний уют» — интернет-магазин текстиля",
                    store_answers(
                        "Домашний уют",
                        "Постельное бельё и текстиль.",
                        "Продажи по всей России.",
                        400,
                        ["catalog", "cart", "online_payment", "account"],
                    ),
                ),
                (
                    "ООО «Спорт-Маркет»",
                    "Денис Королёв",
                    "korolev@sport-market.example",
                    _ooo(
                        "Спорт-Маркет",
                        "5406123450",
                        "1155400012349",
                        "630099, г. Новосибирск, ул. Ленина, д. 12",
                        "Королёв Денис Алексеевич",
                    ),
                    "Магазин спортивного питания.",
                    "store",
                    95,
                    44,
                    Source.WEBSITE,
                    "anna",
                    "«Спорт-Маркет» — интернет-магазин",
                    store_answers(
                        "Спорт-Маркет",
                        "Спортивное питание и аксессуары.",
                        "Онлайн-продажи и самовывоз.",
                        650,
                        ["catalog", "cart", "online_payment", "search"],
                    ),
                ),
                (
                    "ООО «Уралмаш-Сервис»",
                    "Николай Гришин",
                    "grishin@uralmash-service.example",
                    _ooo(
                        "Уралмаш-Сервис",
                        "6608123455",
                        "1066600012346",
                        "620012, г. Екатеринбург, пл. Первой Пятилетки, д. 1",
                        "Гришин Николай Иванович",
                    ),
                    "Корпоративный сайт сервисной компании.",
                    "corporate",
                    100,
                    61,
                    Source.EMAIL,
                    "boris",
                    "«Уралмаш-Сервис» — корпоративный сайт",
                    corporate_answers(
                        "Уралмаш-Сервис",
                        "Ремонт промышленного оборудования.",
                        "Заявки на ремонт.",
                        ["home", "about", "services", "service_page", "contacts"],
                        ["search"],
                    ),
                ),
                (
                    "ООО «Бизнес-Консалт»",
                    "Анастасия Ткаченко",
                    "tkachenko@biz-consult.example",
                    _ooo(
                        "Бизнес-Консалт",
                        "7709123453",
                        "1037700012349",
                        "109004, г. Москва, ул. Николоямская, д. 40",
                        "Ткаченко Анастасия Юрьевна",
                    ),
                    "Сайт консалтинговой компании.",
                    "corporate",
                    75,
                    38,
                    Source.REFERRAL,
                    "anna",
                    "«Бизнес-Консалт» — корпоративный сайт",
                    corporate_answers(
                        "Бизнес-Консалт",
                        "Финансовый консалтинг.",
                        "Доверие и заявки.",
                        ["home", "about", "services", "service_page", "blog", "contacts"],
                        ["blog"],
                    ),
                ),
                (
                    "Языковой центр «Глобус»",
                    "Мария Белкина",
                    "belkina@globus-lang.example",
                    {},
                    "Лендинг курсов китайского языка.",
                    "landing",
                    60,
                    36,
                    Source.MESSENGER,
                    "boris",
                    "«Глобус» — лендинг курсов",
                    landing_answers(
                        "Глобус",
                        "Китайский с нуля за 3 месяца, группы до 6 человек.",
                        "Заявки на бесплатный пробный урок.",
                        ["calculator"],
                    ),
                ),
            ]
        )
    ],
]


# --- moving the early steps into the past -------------------------------------------------------


class Timeline:
    """Real moments at which the steps of one story started, and where each step belongs
    in the demo's past. ``shift`` moves a time stamped during a step by that step's offset;
    steps given no past moment keep their real times."""

    def __init__(self) -> None:
        self._marks: list[tuple[datetime, timedelta]] = []

    def step(self, at: datetime | None) -> None:
        real = timezone.now()
        self._marks.append((real, (at - real) if at is not None else timedelta(0)))

    def offset(self, value: datetime) -> timedelta:
        offset = timedelta(0)
        for real, delta in self._marks:
            if value < real:
                break
            offset = delta
        return offset

    def shift(self, value: datetime | None) -> datetime | None:
        return None if value is None else value + self.offset(value)


# Per model: how to find a deal's rows, the times to move, and the times that are relative
# to the row's creation (a reminder due three days after the brief was sent).
_TIMED: list[tuple[type[models.Model], Callable[[Deal], dict[str, Any]], list[str], list[str]]] = [
    (
        Deal,
        lambda deal: {"pk": deal.pk},
        ["created_at", "stage_changed_at", "closed_at", "updated_at"],
        [],
    ),
    (Client, lambda deal: {"pk": deal.client_id}, ["created_at"], []),
    (Contact, lambda deal: {"pk": deal.contact_id}, ["created_at"], []),
    (StageChange, lambda deal: {"deal": deal}, ["at"], []),
    (Note, lambda deal: {"deal": deal}, ["created_at"], []),
    (Task, lambda deal: {"deal": deal}, ["created_at", "done_at", "reminded_at"], ["due_at"]),
    (
        Brief,
        lambda deal: {"deal": deal},
        [
            "created_at",
            "sent_at",
            "answers_saved_at",
            "submitted_at",
            "first_viewed_at",
            "reopened_at",
        ],
        [],
    ),
    (Estimate, lambda deal: {"deal": deal}, ["created_at", "updated_at", "saved_at"], []),
    (Outbox, lambda deal: {"deal": deal}, ["created_at", "next_attempt_at"], []),
]


def move_into_past(deal: Deal, timeline: Timeline) -> None:
    """Move the times of the deal's early steps to where the timeline places them."""
    for model, lookup, fields, relative in _TIMED:
        rows = list(model.objects.filter(**lookup(deal)))
        for row in rows:
            anchor = getattr(row, "created_at", None)
            for name in relative:
                value = getattr(row, name)
                if value is not None and anchor is not None:
                    setattr(row, name, value + timeline.offset(anchor))
            for name in fields:
                setattr(row, name, timeline.shift(getattr(row, name)))
        if rows:
            model.objects.bulk_update(rows, fields + relative)


# --- running a story ----------------------------------------------------------------------------


DEMO_USER_AGENT = "Mozilla/5.0 (demo client)"
DEMO_IP = "203.0.113.10"  # TEST-NET-3: documentation addresses, never a real client


class Runner:
    """Plays the stories against the services, as the studio's people and its clients."""

    def __init__(self, rng: random.Random, users: dict[str, User]) -> None:
        self.rng = rng
        self.users = users
        self.now = timezone.now()
        self.moment = self.now  # where in the demo's past the step being played happens

    # time

    def _past(self, days_ago: float) -> datetime:
        """A moment that many days ago, moved into working hours when that stays in the past."""
        moment = self.now - timedelta(days=days_ago)
        working = timezone.localtime(moment).replace(
            hour=self.rng.randint(9, 18), minute=self.rng.randrange(0, 60, 5), second=0
        )
        return working if working < self.now - timedelta(minutes=30) else moment

    def _schedule(self, story: Story, steps: list[str]) -> dict[str, datetime]:
        """Where each early step of the story belongs in the past, and its closing if it
        closed before documents (later steps keep their real time)."""
        times: dict[str, datetime] = {}
        previous: datetime | None = None
        early = [step for step in steps if step in BEFORE_DOCUMENTS]
        if story.reopen_comment:
            early.append("reopened")
        index = 0
        for step in early:
            if previous is not None and step in (BRIEF_OPENED, "reopened"):
                # The client opens the brief within hours; the manager reads it the same day.
                moment = previous + timedelta(hours=self.rng.randint(1, 6))
            else:
                moment = self._past(max(story.days_ago - index * story.pace, 0.02))
                index += 1
            if previous is not None and moment <= previous:
                moment = previous + timedelta(minutes=self.rng.randint(20, 90))
            times[step] = previous = min(moment, self.now - timedelta(minutes=5))
        if story.closed_days_ago is not None:
            if set(steps) - BEFORE_DOCUMENTS:
                raise ValueError(
                    f"demo story {story.key}: only a deal without documents closes in the past"
                )
            moment = self._past(story.closed_days_ago)
            times["closed"] = max(moment, (previous or moment) + timedelta(hours=1))
        return times

    # the story

    def play(self, story: Story) -> Deal:
        steps = story.steps()
        times = self._schedule(story, steps)
        timeline = Timeline()
        context: dict[str, Any] = {}
        deal: Deal | None = None
        for step in steps:
            self.moment = times.get(step, timezone.now())
            timeline.step(times.get(step))
            deal = getattr(self, f"_{step}")(story, deal, context)
        assert deal is not None
        if story.reopen_comment:
            timeline.step(times["reopened"])
            brief_services.reopen_brief(context["brief"], story.reopen_comment, actor=deal.manager)
        if story.won or story.lost_reason:
            timeline.step(times.get("closed"))
            self._close_open_tasks(deal)
            if story.won:
                deal_services.move_deal(deal, PAID, actor=deal.manager)
            else:
                deal_services.mark_lost(deal, story.lost_reason, actor=deal.manager)
        for text in story.notes:
            deal_services.add_note(deal, text, actor=deal.manager)
        move_into_past(deal, timeline)
        for title, when in story.tasks:
            deal_services.add_task(
                title=title,
                due_at=self._due(when),
                assignee=deal.manager,
                actor=deal.manager,
                deal=deal,
            )
        deal.refresh_from_db()
        return deal

    def _due(self, when: str) -> datetime:
        """A due time the manager's day shows under "overdue", "today" or "tomorrow"."""
        local_now = timezone.localtime(self.now)
        end_of_today = local_now.replace(hour=23, minute=30, second=0, microsecond=0)
        if when == "overdue":
            return local_now - timedelta(days=1, hours=self.rng.randint(1, 5))
        if when == "today":
            return min(local_now + timedelta(hours=self.rng.randint(1, 4)), end_of_today)
        tomorrow = local_now.date() + timedelta(days=1)
        return timezone.make_aware(datetime.combine(tomorrow, time(11, 0)))

    def _close_open_tasks(self, deal: Deal) -> None:
        for task in Task.objects.filter(deal=deal, done=False):
            deal_services.complete_task(task, actor=deal.manager)

    def _as_client(self, story: Story) -> translation.override:
        """Client actions run in the client's language, as the client's pages do."""
        return translation.override(story.language)

    # steps before documents

    def _lead(self, story: Story, deal: Deal | None, context: dict) -> Deal:
        company = story.company
        if story.channel in (Source.WEBSITE, Source.API):
            with self._as_client(story):
                result = submit_lead(
                    LeadData(
                        name=company.contact,
                        email=company.email,
                        phone=company.phone,
                        company=company.name,
                        message=story.message,
                        budget=story.budget,
                        page_url="https://kvarts.example/contacts/"
                        if story.channel == Source.WEBSITE
                        else "",
                        utm_source="yandex" if story.channel == Source.WEBSITE else "",
                        utm_medium="cpc" if story.channel == Source.WEBSITE else "",
                    ),
                    source=story.channel,
                    idempotency_key=f"demo-{story.key}",
                )
            deal = result.deal
            if story.currency != deal.currency:
                deal = deal_services.update_deal(deal, actor=deal.manager, currency=story.currency)
        else:
            manager = self.users[story.manager]
            match = match_or_create_contact(
                name=company.contact,
                email=company.email,
                phone=company.phone,
                company=company.name,
                actor=manager,
            )
            deal = deal_services.create_deal(
                title=story.title,
                client=match.contact.client,
                contact=match.contact,
                actor=manager,
                manager=manager,
                source=story.channel,
                description=story.message,
                currency=story.currency,
                expected_amount=story.budget,
            )
        self._fill_client(story, deal)
        return deal

    def _fill_client(self, story: Story, deal: Deal) -> None:
        """What the manager learns on the first call: the contact's position, the client's
        kind and, for clients that get a contract, the legal details."""
        company = story.company
        client = deal.client
        data = {**model_to_dict(client), "kind": company.kind, **company.legal}
        if data != model_to_dict(client):
            form = ClientForm(data=_form_data(data), instance=client)
            if not form.is_valid():
                raise ValueError(f"demo client {company.name}: {form.errors.as_json()}")
            save_client(form, actor=deal.manager)
        if company.position and deal.contact is not None:
            contact = deal.contact
            form = ContactForm(
                data=_form_data({**model_to_dict(contact), "position": company.position}),
                instance=contact,
            )
            if not form.is_valid():
                raise ValueError(f"demo contact {company.contact}: {form.errors.as_json()}")
            save_contact(form, client=client, actor=deal.manager)

    def _brief_sent(self, story: Story, deal: Deal, context: dict) -> Deal:
        template = BriefTemplate.objects.get(default_key=story.project, language=story.language)
        context["brief"] = brief_services.send_brief(deal, template, actor=deal.manager)
        return deal

    def _brief_opened(self, story: Story, deal: Deal, context: dict) -> Deal:
        brief = context["brief"]
        with self._as_client(story):
            if record_view(brief):
                brief_services.record_first_view(brief)
            if story.goal == BRIEF_OPENED:
                self._answer(brief, story.answers)
        return deal

    def _brief_submitted(self, story: Story, deal: Deal, context: dict) -> Deal:
        brief = context["brief"]
        with self._as_client(story):
            self._answer(brief, story.answers)
            brief_services.submit_brief(brief)
        return deal

    def _answer(self, brief: Brief, answers: dict[str, Any]) -> None:
        """Type the answers into the brief as the client does. A deadline is given as days
        from the day of answering."""
        keys = {question["key"] for question in brief.questions}
        answered_on = timezone.localtime(self.moment).date()
        submitted = {}
        for key, value in answers.items():
            if key not in keys:
                continue
            if key == "deadline":
                value = (answered_on + timedelta(days=value)).isoformat()
            submitted[key] = (value, "")
        errors = brief_services.save_answers(brief, submitted)
        if errors:
            raise ValueError(f"demo brief answers refused: {errors}")

    def _estimated(self, story: Story, deal: Deal, context: dict) -> Deal:
        manager = deal.manager
        estimate = drafting.draft_from_brief(deal, actor=manager)
        if story.extra_options == "store_variants":
            self._store_variants(estimate, manager)
        estimate_services.save_estimate(estimate, actor=manager)
        context["estimate"] = estimate
        deal.refresh_from_db()
        return deal

    def _store_variants(self, estimate: Estimate, manager: User) -> None:
        """Two more options beside the drafted shop: one with the integrations a growing
        shop asks for next, and a smaller start without online payment."""
        main = estimate.options.get(is_primary=True)
        services = {
            service.code: service
            for service in Service.objects.filter(price_list=estimate.price_list)
        }
        bigger = estimate_services.add_option(
            estimate, actor=manager, name="Магазин + 1С и CRM", copy_of=main
        )
        for code in ("integration_1c", "crm_integration"):
            if code in services:
                estimate_services.add_service(bigger, services[code], actor=manager)
        smaller = estimate_services.add_option(
            estimate, actor=manager, name="Старт: каталог с заявками", copy_of=main
        )
        for line in EstimateLine.objects.filter(
            option=smaller, code__in=["cart", "checkout", "cart_logic", "payment_integration"]
        ):
            if EstimateLine.objects.filter(pk=line.pk).exists():
                estimate_services.delete_line(line, actor=manager)

    # documents: everything from here on happens at the real time of the demo

    def _proposal_sent(self, story: Story, deal: Deal, context: dict) -> Deal:
        proposal = document_services.create_proposal(deal, actor=deal.manager)
        document_services.send_document(proposal, actor=deal.manager)
        context["proposal"] = proposal
        return deal

    def _proposal_viewed(self, story: Story, deal: Deal, context: dict) -> Deal:
        self._view_document(story, context["proposal"])
        return deal

    def _view_document(self, story: Story, document: Document) -> None:
        with self._as_client(story):
            first = record_view(document)
            document_services.mark_viewed(document)
            if first:
                document_services.record_first_view(document)

    def _proposal_accepted(self, story: Story, deal: Deal, context: dict) -> Deal:
        proposal = context["proposal"]
        options = list(
            EstimateOption.objects.filter(
                estimate__deal=deal, estimate__status=Estimate.Status.SAVED
            ).order_by("estimate__saved_at", "position", "pk")
        )
        chosen = options[min(story.choice, len(options) - 1)]
        extras = EstimateLine.objects.filter(
            option=chosen, is_optional=True, code__in=story.extras
        ).values_list("pk", flat=True)
        self._accept(
            story,
            proposal,
            selection={"option": str(chosen.pk), "optional": [str(pk) for pk in extras]},
        )
        return deal

    def _accept(self, story: Story, document: Document, selection: dict | None = None) -> None:
        """The client opens the document's page (a client accepts only what they opened)
        and accepts the version shown."""
        self._view_document(story, document)
        document.refresh_from_db()
        with self._as_client(story):
            document_services.accept_document(
                document,
                fingerprint=render_document(document).fingerprint,
                signer=document_services.Signer(
                    name=story.company.contact, email=story.company.email
                ),
                request_meta=document_services.RequestMeta(ip=DEMO_IP, user_agent=DEMO_USER_AGENT),
                selection=selection,
            )

    def _contract_sent(self, story: Story, deal: Deal, context: dict) -> Deal:
        contract = document_services.contract_of(deal)
        assert contract is not None
        document_services.send_document(contract, actor=deal.manager)
        # The "check and send the contract" reminder is done once it is sent.
        for task in Task.objects.filter(deal=deal, done=False, created_by__isnull=True):
            if contract.title in task.title:
                deal_services.complete_task(task, actor=deal.manager)
        context["contract"] = contract
        return deal

    def _contract_viewed(self, story: Story, deal: Deal, context: dict) -> Deal:
        self._view_document(story, context["contract"])
        return deal

    def _contract_signed(self, story: Story, deal: Deal, context: dict) -> Deal:
        contract = context["contract"]
        self._accept(story, contract)
        for appendix in Document.objects.filter(parent=contract, kind=Kind.APPENDIX):
            self._accept(story, appendix)
        return deal

    def _invoiced(self, story: Story, deal: Deal, context: dict) -> Deal:
        invoice, _token = billing_services.create_from_schedule(deal, 1, actor=deal.manager)
        context["invoice"] = invoice
        return deal

    def _invoice_viewed(self, story: Story, deal: Deal, context: dict) -> Deal:
        invoice = context["invoice"]
        with self._as_client(story):
            if record_view(invoice):
                billing_services.record_first_view(invoice)
        return deal

    def _part_paid(self, story: Story, deal: Deal, context: dict) -> Deal:
        invoice = context["invoice"]
        self._transfer(deal, invoice, (invoice.total / 2).quantize(Decimal("1")))
        return deal

    def _deposit_paid(self, story: Story, deal: Deal, context: dict) -> Deal:
        invoice = context["invoice"]
        invoice.refresh_from_db()
        self._transfer(deal, invoice, invoice.amount_due)
        return deal

    def _paid_in_full(self, story: Story, deal: Deal, context: dict) -> Deal:
        invoice, _token = billing_services.create_from_schedule(deal, 2, actor=deal.manager)
        self._transfer(deal, invoice, invoice.total)
        return deal

    def _transfer(self, deal: Deal, invoice: Invoice, amount: Decimal) -> None:
        """The manager sees the money on the studio's account and records it."""
        billing_payments.record_manual_payment(
            invoice,
            amount=amount,
            received_on=timezone.localdate(),
            actor=deal.manager,
            note="Платёжное поручение от клиента",
        )


def _form_data(values: dict[str, Any]) -> dict[str, Any]:
    """Model values as a form would post them (no None, foreign keys as ids)."""
    return {name: "" if value is None else value for name, value in values.items()}


# --- the whole demo -----------------------------------------------------------------------------


@dataclass
class DemoResult:
    passwords: dict[str, str]
    deals: dict[str, Deal]


def create_users() -> tuple[dict[str, User], dict[str, str]]:
    users: dict[str, User] = {}
    passwords: dict[str, str] = {}
    for username, email, first_name, last_name, role in USERS:
        passwords[username] = secrets.token_urlsafe(9)
        users[username] = User.objects.create_user(
            username,
            email,
            passwords[username],
            first_name=first_name,
            last_name=last_name,
            role=role,
            is_staff=role == User.Role.OWNER,
        )
    return users, passwords


def fill_studio_profile(owner: User, default_manager: User) -> Studio:
    """The owner fills in the studio profile (Settings → Studio), through its form."""
    studio = Studio.load()
    data = {**model_to_dict(studio), **STUDIO_PROFILE, "default_manager": default_manager.pk}
    data.pop("logo", None)
    form = StudioForm(data=_form_data(data), instance=studio)
    if not form.is_valid():
        raise ValueError(f"demo studio profile: {form.errors.as_json()}")
    studio = update_studio(form, actor=owner)
    # Bank transfer needs no keys: switch it on, so invoices offer "Pay by bank transfer".

    account, _created = ProviderAccount.objects.get_or_create(provider="bank_transfer")
    save_provider_account(account, {"enabled": True}, actor=owner)
    return studio


def create_demo(stories: Iterable[Story] = STORIES) -> DemoResult:
    """Create the users, the studio profile and every story's deal. Call inside a
    transaction, on an installation without users."""
    rng = random.Random(SEED)
    first_outbox = Outbox.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    users, passwords = create_users()
    # As in a request: the studio's language for what the staff do, its time zone for dates.
    with (
        translation.override(STUDIO_PROFILE["locale"]),
        timezone.override(zoneinfo.ZoneInfo(STUDIO_PROFILE["time_zone"])),
    ):
        fill_studio_profile(users["owner"], users["anna"])
        runner = Runner(rng, users)
        deals = {story.key: runner.play(story) for story in stories}
        seed_history(users)
    # The console email backend would print every message the stories queued when the
    # worker starts. They are the demo's history, not news: mark them sent here, so only
    # what happens after the demo was created reaches the console.
    Outbox.objects.filter(pk__gt=first_outbox, status=Outbox.Status.QUEUED).update(
        status=Outbox.Status.SENT, sent_at=F("created_at"), attempts=1
    )
    return DemoResult(passwords=passwords, deals=deals)


def credentials_text(passwords: dict[str, str]) -> str:
    login = settings.BASE_URL + reverse("login")
    return (
        f"Demo logins ({login}):\n"
        f"  manager: anna / {passwords['anna']}\n"
        f"  manager: boris / {passwords['boris']}\n"
        f"  owner:   owner / {passwords['owner']}\n"
    )
