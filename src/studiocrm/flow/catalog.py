"""The letters the studio sends by itself: each key, who reads it, its placeholders, and the
default wording in Russian and English (installed by a data migration, edited by the owner
in Settings → Letters).

Templates are Jinja2 run in the documents sandbox against plain data: ``client``, ``studio``,
``manager`` and ``deal`` always, plus what the letter is about. Subjects are phrased so the
studio's name needs no declension ("Студия «Кварц»: счёт № 12").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

COMMON = ("client.name", "studio.name", "studio.phone", "studio.email", "studio.website",
          "manager.name", "manager.email", "manager.phone", "deal.title")  # fmt: skip


@dataclass(frozen=True)
class Letter:
    key: str
    title: object  # lazy translation
    placeholders: tuple[str, ...]
    ru: tuple[str, str]  # subject, HTML body
    en: tuple[str, str]
    audience: str = "client"  # or "manager": no client greeting, no signature

    def default(self, language: str) -> tuple[str, str]:
        return self.ru if language == "ru" else self.en

    @property
    def all_placeholders(self) -> tuple[str, ...]:
        return COMMON + self.placeholders

    @property
    def to_manager(self) -> bool:
        return self.audience == "manager"


HELLO_RU = "<p>{% if client.name %}Здравствуйте, {{ client.name }}!{% else %}Здравствуйте!{% endif %}</p>\n"  # noqa: E501
HELLO_EN = "<p>{% if client.name %}Dear {{ client.name }},{% else %}Hello,{% endif %}</p>\n"

LETTERS: tuple[Letter, ...] = (
    Letter(
        "brief_link",
        _("Brief: the link"),
        ("brief.title", "link"),
        (
            "{{ studio.name }}: бриф «{{ brief.title }}»",
            HELLO_RU + "<p>Чтобы мы точно поняли задачу и посчитали проект без сюрпризов, "
            "ответьте, пожалуйста, на вопросы короткого брифа «{{ brief.title }}». "
            "Это займёт 10–15 минут.</p>\n"
            '<p><a class="button" href="{{ link }}">Заполнить бриф</a></p>\n'
            "<p>Ответы сохраняются по ходу: можно прерваться и вернуться по той же ссылке. "
            "Если какой-то вопрос непонятен — просто ответьте на это письмо.</p>",
        ),
        (
            "{{ studio.name }}: brief “{{ brief.title }}”",
            HELLO_EN + "<p>So that we understand the task and estimate the project without "
            "surprises, please answer the questions of the short brief “{{ brief.title }}”. "
            "It takes 10–15 minutes.</p>\n"
            '<p><a class="button" href="{{ link }}">Fill in the brief</a></p>\n'
            "<p>Your answers are saved as you type, so you can stop and come back to the same "
            "link. If a question is unclear, just reply to this email.</p>",
        ),
    ),
    Letter(
        "brief_reopened",
        _("Brief: please complete"),
        ("brief.title", "link", "comment"),
        (
            "{{ studio.name }}: дополните, пожалуйста, бриф",
            HELLO_RU + "<p>Спасибо за ответы! Чтобы посчитать проект точно, нам не хватает "
            "нескольких деталей:</p>\n<blockquote>{{ comment }}</blockquote>\n"
            '<p><a class="button" href="{{ link }}">Дополнить бриф</a></p>',
        ),
        (
            "{{ studio.name }}: please complete the brief",
            HELLO_EN + "<p>Thank you for your answers! To estimate the project accurately we "
            "need a few more details:</p>\n<blockquote>{{ comment }}</blockquote>\n"
            '<p><a class="button" href="{{ link }}">Complete the brief</a></p>',
        ),
    ),
    Letter(
        "brief_reminder",
        _("Brief: reminder"),
        ("brief.title", "link"),
        (
            "{{ studio.name }}: напоминаем о брифе",
            HELLO_RU + "<p>Напоминаем о брифе «{{ brief.title }}»: как только вы ответите "
            "на вопросы, мы подготовим смету и предложение.</p>\n"
            '<p><a class="button" href="{{ link }}">Продолжить бриф</a></p>\n'
            "<p>Удобнее обсудить голосом? Ответьте на письмо — созвонимся в удобное время.</p>",
        ),
        (
            "{{ studio.name }}: a reminder about the brief",
            HELLO_EN + "<p>A gentle reminder about the brief “{{ brief.title }}”: as soon as "
            "you answer the questions we will prepare the estimate and the proposal.</p>\n"
            '<p><a class="button" href="{{ link }}">Continue the brief</a></p>\n'
            "<p>Would you rather talk it through? Reply to this email and we will call you.</p>",
        ),
    ),
    Letter(
        "brief_thanks",
        _("Brief: thank you"),
        ("brief.title",),
        (
            "{{ studio.name }}: спасибо за бриф",
            HELLO_RU + "<p>Спасибо, бриф «{{ brief.title }}» у нас. Мы изучим ответы и "
            "пришлём смету и предложение в течение двух рабочих дней. Если появятся "
            "вопросы — напишем.</p>",
        ),
        (
            "{{ studio.name }}: thank you for the brief",
            HELLO_EN + "<p>Thank you, we have received the brief “{{ brief.title }}”. We will "
            "study your answers and send the estimate and the proposal within two business "
            "days. If anything is unclear we will write to you.</p>",
        ),
    ),
    Letter(
        "proposal_ready",
        _("Proposal ready"),
        ("document.title", "document.updated", "links", "link"),
        (
            "{{ studio.name }}: {% if document.updated %}обновлено — {% endif %}"
            "{{ document.title }}",
            HELLO_RU + "<p>{% if document.updated %}Мы обновили предложение «{{ document.title }}»."
            "{% else %}Мы подготовили для вас предложение «{{ document.title }}».{% endif %} "
            "На странице можно сравнить варианты, добавить опции, увидеть итог и сроки, принять "
            "предложение или задать вопрос.</p>\n"
            '<p><a class="button" href="{{ link }}">Открыть предложение</a></p>\n'
            "<p>Ссылка персональная, пожалуйста, не пересылайте её.</p>",
        ),
        (
            "{{ studio.name }}: {% if document.updated %}updated — {% endif %}{{ document.title }}",
            HELLO_EN + "<p>{% if document.updated %}We have updated the proposal "
            "“{{ document.title }}”.{% else %}We have prepared the proposal "
            "“{{ document.title }}” for you.{% endif %} On the page you can compare the options, "
            "add extras, see the total and the timeline, accept it or ask us a question.</p>\n"
            '<p><a class="button" href="{{ link }}">Open the proposal</a></p>\n'
            "<p>The link is personal; please do not forward it.</p>",
        ),
    ),
    Letter(
        "contract_ready",
        _("Contract ready to sign"),
        ("document.title", "document.updated", "links", "link"),
        (
            "{{ studio.name }}: {% if document.updated %}обновлено — {% endif %}"
            "{{ document.title }} на подпись",
            HELLO_RU + "<p>Договор готов. Прочитайте документы на странице и подпишите их там "
            "же — понадобятся только имя и email. PDF-копию можно скачать в любой момент.</p>\n"
            '<ul>{% for item in links %}<li><a href="{{ item.url }}">{{ item.title }}</a></li>'
            "{% endfor %}</ul>\n"
            '<p><a class="button" href="{{ link }}">Открыть договор</a></p>',
        ),
        (
            "{{ studio.name }}: {% if document.updated %}updated — {% endif %}"
            "{{ document.title }} to sign",
            HELLO_EN + "<p>The contract is ready. Read the documents on the page and sign them "
            "there — all it takes is your name and email. You can download a PDF copy at any "
            "time.</p>\n"
            '<ul>{% for item in links %}<li><a href="{{ item.url }}">{{ item.title }}</a></li>'
            "{% endfor %}</ul>\n"
            '<p><a class="button" href="{{ link }}">Open the contract</a></p>',
        ),
    ),
    Letter(
        "proposal_followup",
        _("Proposal: follow-up"),
        ("document.title", "link"),
        (
            "{{ studio.name }}: как вам предложение?",
            HELLO_RU + "<p>Несколько дней назад мы отправили предложение «{{ document.title }}». "
            "Удалось посмотреть? Если что-то хочется изменить — состав, сроки или бюджет — "
            "ответьте на письмо, поправим.</p>\n"
            '<p><a class="button" href="{{ link }}">Открыть предложение</a></p>',
        ),
        (
            "{{ studio.name }}: what do you think of the proposal?",
            HELLO_EN + "<p>A few days ago we sent you the proposal “{{ document.title }}”. Have "
            "you had a chance to look at it? If you would like to change anything — scope, "
            "timeline or budget — reply to this email and we will adjust it.</p>\n"
            '<p><a class="button" href="{{ link }}">Open the proposal</a></p>',
        ),
    ),
    Letter(
        "proposal_expiring",
        _("Proposal: validity ends soon"),
        ("document.title", "document.valid_until", "link"),
        (
            "{{ studio.name }}: предложение действует до {{ document.valid_until }}",
            HELLO_RU + "<p>Напоминаем, что предложение «{{ document.title }}» действует до "
            "{{ document.valid_until }} включительно: до этой даты мы держим цены и сроки. "
            "Если всё подходит, его можно принять на странице в пару кликов; если хочется что-то "
            "поменять — ответьте на письмо.</p>\n"
            '<p><a class="button" href="{{ link }}">Открыть предложение</a></p>',
        ),
        (
            "{{ studio.name }}: the proposal is valid until {{ document.valid_until }}",
            HELLO_EN + "<p>A reminder that the proposal “{{ document.title }}” is valid until "
            "{{ document.valid_until }} inclusive: until then we hold the prices and the "
            "timeline. If it suits you, you can accept it on the page in a couple of clicks; if "
            "you would like to change anything, just reply to this email.</p>\n"
            '<p><a class="button" href="{{ link }}">Open the proposal</a></p>',
        ),
    ),
    Letter(
        "signing_reminder",
        _("Contract: signing reminder"),
        ("document.title", "link"),
        (
            "{{ studio.name }}: договор ждёт подписи",
            HELLO_RU + "<p>Напоминаем, что «{{ document.title }}» ждёт вашей подписи. Как только "
            "договор будет подписан, мы выставим счёт и начнём работу.</p>\n"
            '<p><a class="button" href="{{ link }}">Подписать договор</a></p>',
        ),
        (
            "{{ studio.name }}: the contract is waiting for your signature",
            HELLO_EN + "<p>A reminder that “{{ document.title }}” is waiting for your signature. "
            "As soon as it is signed we will send the invoice and start the work.</p>\n"
            '<p><a class="button" href="{{ link }}">Sign the contract</a></p>',
        ),
    ),
    Letter(
        "signed_copies",
        _("Contract signed: copies"),
        ("document.title", "links", "link"),
        (
            "{{ studio.name }}: договор подписан",
            HELLO_RU + "<p>Спасибо! Договор подписан обеими сторонами. Подписанные документы с "
            "листом подписания всегда доступны по ссылкам:</p>\n"
            '<ul>{% for item in links %}<li><a href="{{ item.url }}">{{ item.title }}</a></li>'
            "{% endfor %}</ul>\n<p>Счёт на предоплату придёт отдельным письмом.</p>",
        ),
        (
            "{{ studio.name }}: the contract is signed",
            HELLO_EN + "<p>Thank you! The contract is signed by both parties. The signed "
            "documents with their signature certificate are always available here:</p>\n"
            '<ul>{% for item in links %}<li><a href="{{ item.url }}">{{ item.title }}</a></li>'
            "{% endfor %}</ul>\n<p>The deposit invoice follows in a separate email.</p>",
        ),
    ),
    Letter(
        "invoice_issued",
        _("Invoice issued"),
        ("invoice.number", "invoice.amount", "invoice.due_date", "invoice.pay_online", "link"),
        (
            "{{ studio.name }}: счёт № {{ invoice.number }}",
            HELLO_RU + "<p>Направляем счёт № {{ invoice.number }} на сумму "
            "{{ invoice.amount }}{% if invoice.due_date %}, оплатить до "
            "{{ invoice.due_date }}{% endif %}.</p>\n"
            '<p><a class="button" href="{{ link }}">Открыть счёт</a></p>\n'
            "<p>{% if invoice.pay_online %}На странице можно оплатить онлайн или банковским "
            "переводом, а также скачать счёт в PDF.{% else %}На странице — реквизиты для "
            "банковского перевода и счёт в PDF.{% endif %}</p>",
        ),
        (
            "{{ studio.name }}: invoice No. {{ invoice.number }}",
            HELLO_EN + "<p>Please find invoice No. {{ invoice.number }} for "
            "{{ invoice.amount }}{% if invoice.due_date %}, due by {{ invoice.due_date }}"
            "{% endif %}.</p>\n"
            '<p><a class="button" href="{{ link }}">Open the invoice</a></p>\n'
            "<p>{% if invoice.pay_online %}On the page you can pay online or by bank transfer "
            "and download the invoice as PDF.{% else %}The page has the bank details for the "
            "transfer and the invoice as PDF.{% endif %}</p>",
        ),
    ),
    Letter(
        "payment_due_soon",
        _("Payment due soon"),
        ("invoice.number", "invoice.amount", "invoice.due_date", "link"),
        (
            "{{ studio.name }}: срок оплаты счёта № {{ invoice.number }}",
            HELLO_RU + "<p>Напоминаем: срок оплаты счёта № {{ invoice.number }} на "
            "{{ invoice.amount }} — {{ invoice.due_date }}. Если уже оплатили, спасибо и "
            "не обращайте внимания на это письмо.</p>\n"
            '<p><a class="button" href="{{ link }}">Открыть счёт</a></p>',
        ),
        (
            "{{ studio.name }}: invoice No. {{ invoice.number }} is due soon",
            HELLO_EN + "<p>A reminder: invoice No. {{ invoice.number }} for {{ invoice.amount }} "
            "is due on {{ invoice.due_date }}. If you have already paid, thank you, and please "
            "ignore this email.</p>\n"
            '<p><a class="button" href="{{ link }}">Open the invoice</a></p>',
        ),
    ),
    Letter(
        "payment_overdue",
        _("Payment overdue"),
        ("invoice.number", "invoice.amount", "invoice.due_date", "link"),
        (
            "{{ studio.name }}: счёт № {{ invoice.number }} не оплачен",
            HELLO_RU + "<p>Срок оплаты счёта № {{ invoice.number }} на {{ invoice.amount }} "
            "прошёл {{ invoice.due_date }}, а оплату мы пока не видим. Если платёж уже в пути, "
            "пришлите, пожалуйста, платёжное поручение ответом на это письмо.</p>\n"
            '<p><a class="button" href="{{ link }}">Оплатить счёт</a></p>',
        ),
        (
            "{{ studio.name }}: invoice No. {{ invoice.number }} is overdue",
            HELLO_EN + "<p>Invoice No. {{ invoice.number }} for {{ invoice.amount }} was due on "
            "{{ invoice.due_date }} and we have not received the payment yet. If it is on its "
            "way, please reply with the payment confirmation.</p>\n"
            '<p><a class="button" href="{{ link }}">Pay the invoice</a></p>',
        ),
    ),
    Letter(
        "payment_received",
        _("Payment received"),
        ("invoice.number", "payment.amount", "payment.date", "payment.still_due"),
        (
            "{{ studio.name }}: оплата по счёту № {{ invoice.number }} получена",
            HELLO_RU + "<p>Мы получили {{ payment.amount }} по счёту № {{ invoice.number }} "
            "({{ payment.date }}). Спасибо!</p>\n<p>{% if payment.still_due %}"
            "К оплате по счёту осталось {{ payment.still_due }}.{% else %}Счёт оплачен "
            "полностью.{% endif %}</p>",
        ),
        (
            "{{ studio.name }}: payment for invoice No. {{ invoice.number }} received",
            HELLO_EN + "<p>We have received {{ payment.amount }} for invoice "
            "No. {{ invoice.number }} ({{ payment.date }}). Thank you!</p>\n<p>"
            "{% if payment.still_due %}Still due on this invoice: {{ payment.still_due }}."
            "{% else %}The invoice is paid in full.{% endif %}</p>",
        ),
    ),
    Letter(
        "kickoff",
        _("Kickoff: what to prepare"),
        ("checklist", "checklist_link"),
        (
            "{{ studio.name }}: начинаем работу",
            HELLO_RU + "<p>Предоплата получена — мы начинаем работу над проектом "
            "«{{ deal.title }}». Чтобы старт прошёл быстро, подготовьте, пожалуйста:</p>\n"
            "<ul>{% for item in checklist %}<li>{{ item }}</li>{% endfor %}</ul>\n"
            "{% if checklist_link %}<p>Отмечайте готовое на странице — так мы сразу увидим, "
            "что можно начинать, и не будем беспокоить вас вопросами.</p>\n"
            '<p><a class="button" href="{{ checklist_link }}">Отметить, что готово</a></p>\n'
            "{% endif %}"
            "<p>{{ manager.name or 'Ваш менеджер' }} свяжется с вами, чтобы договориться "
            "о встрече-знакомстве.</p>",
        ),
        (
            "{{ studio.name }}: we are starting",
            HELLO_EN + "<p>The deposit has arrived — we are starting work on "
            "“{{ deal.title }}”. To get off to a quick start, please prepare:</p>\n"
            "<ul>{% for item in checklist %}<li>{{ item }}</li>{% endfor %}</ul>\n"
            "{% if checklist_link %}<p>Tick what is ready on the page: we see it at once and "
            "will not chase you with questions.</p>\n"
            '<p><a class="button" href="{{ checklist_link }}">Tick what is ready</a></p>\n'
            "{% endif %}"
            "<p>{{ manager.name or 'Your manager' }} will contact you to arrange the "
            "kickoff meeting.</p>",
        ),
    ),
)

KICKOFF_CHECKLIST = {
    "ru": [
        "логотип и фирменный стиль (если есть)",
        "тексты и фотографии, которые точно войдут на сайт",
        "доступы к домену, хостингу и текущему сайту",
        "контакт человека, который будет согласовывать макеты",
    ],
    "en": [
        "your logo and brand guide (if you have them)",
        "texts and photos that will certainly be on the site",
        "access to the domain, hosting and the current site",
        "the contact of the person who will approve the designs",
    ],
}


# --- The manager's letters ------------------------------------------------------------------
# What the studio's CRM tells its own people. Same editor, same sandbox; no client greeting and
# no signature (``audience="manager"``), the subject names the deal rather than the studio.

LINK_RU = '<p><a class="button" href="{{ link }}">Открыть сделку</a></p>'
LINK_EN = '<p><a class="button" href="{{ link }}">Open the deal</a></p>'

MANAGER_LETTERS: tuple[Letter, ...] = (
    Letter(
        "manager_new_lead",
        _("Manager: new application"),
        ("lead.contact", "lead.email", "lead.phone", "lead.description", "link"),
        (
            "Новая заявка: {{ deal.title }}",
            "<p>{% if manager.name %}Здравствуйте, {{ manager.name }}!{% else %}Здравствуйте!"
            "{% endif %}</p>\n<p>Пришла новая заявка, она назначена вам.</p>\n"
            "<p><strong>{{ deal.title }}</strong><br>\nКлиент: {{ client.company }}"
            "{% if lead.contact %}<br>\nКонтакт: {{ lead.contact }}{% if lead.email %} "
            "&lt;{{ lead.email }}&gt;{% endif %}{% if lead.phone %}, {{ lead.phone }}{% endif %}"
            "{% endif %}</p>\n{% if lead.description %}<blockquote>{{ lead.description }}"
            "</blockquote>\n{% endif %}" + LINK_RU,
        ),
        (
            "New application: {{ deal.title }}",
            "<p>{% if manager.name %}Hello, {{ manager.name }}!{% else %}Hello!{% endif %}</p>\n"
            "<p>A new application has arrived and is assigned to you.</p>\n"
            "<p><strong>{{ deal.title }}</strong><br>\nClient: {{ client.company }}"
            "{% if lead.contact %}<br>\nContact: {{ lead.contact }}{% if lead.email %} "
            "&lt;{{ lead.email }}&gt;{% endif %}{% if lead.phone %}, {{ lead.phone }}{% endif %}"
            "{% endif %}</p>\n{% if lead.description %}<blockquote>{{ lead.description }}"
            "</blockquote>\n{% endif %}" + LINK_EN,
        ),
        audience="manager",
    ),
    Letter(
        "manager_brief_viewed",
        _("Manager: the client opened the brief"),
        ("brief.title", "link"),
        (
            "Клиент открыл бриф: {{ deal.title }}",
            "<p>Клиент впервые открыл бриф по сделке «{{ deal.title }}» ({{ client.company }})."
            "</p>\n" + LINK_RU.replace("Открыть сделку", "Открыть бриф"),
        ),
        (
            "The client opened the brief: {{ deal.title }}",
            "<p>The client opened the brief for “{{ deal.title }}” ({{ client.company }}) for "
            "the first time.</p>\n" + LINK_EN.replace("Open the deal", "Open the brief"),
        ),
        audience="manager",
    ),
    Letter(
        "manager_brief_submitted",
        _("Manager: brief received"),
        ("brief.title", "link"),
        (
            "Получен бриф: {{ deal.title }}",
            "<p>Клиент заполнил бриф по сделке «{{ deal.title }}» ({{ client.company }}).</p>\n"
            + LINK_RU.replace("Открыть сделку", "Читать ответы"),
        ),
        (
            "Brief received: {{ deal.title }}",
            "<p>The client has sent the brief for “{{ deal.title }}” ({{ client.company }}).</p>\n"
            + LINK_EN.replace("Open the deal", "Read the answers"),
        ),
        audience="manager",
    ),
    Letter(
        "manager_document_viewed",
        _("Manager: the client opened a document"),
        ("document.title", "document_link", "link"),
        (
            "Клиент открыл: {{ document.title }}",
            "<p>Клиент впервые открыл документ «{{ document.title }}» (сделка "
            "«{{ deal.title }}»).</p>\n<p>Хороший момент, чтобы позвонить.</p>\n" + LINK_RU,
        ),
        (
            "The client opened {{ document.title }}",
            "<p>The client has just opened “{{ document.title }}” (deal “{{ deal.title }}”) for "
            "the first time.</p>\n<p>A good moment to call.</p>\n" + LINK_EN,
        ),
        audience="manager",
    ),
    Letter(
        "manager_accepted",
        _("Manager: accepted or signed"),
        (
            "document.title",
            "document.kind",
            "acceptance.name",
            "acceptance.email",
            "acceptance.version",
            "acceptance.option",
            "acceptance.total",
            "together",
            "link",
        ),
        (
            "Принято: {{ document.title }}",
            "<p>{{ acceptance.name }} ({{ acceptance.email }}) принял(а) версию "
            "{{ acceptance.version }} документа «{{ document.title }}».</p>\n"
            "{% for title in together %}<p>Подписано тем же действием: «{{ title }}».</p>\n"
            "{% endfor %}{% if acceptance.option %}<p>Выбранный вариант: {{ acceptance.option }}"
            " — {{ acceptance.total }}</p>\n{% endif %}{% if document.kind == 'proposal' %}"
            "<p>Договор и приложение подготовлены по выбранному варианту. Проверьте их и "
            "отправьте клиенту.</p>\n{% endif %}" + LINK_RU,
        ),
        (
            "Accepted: {{ document.title }}",
            "<p>{{ acceptance.name }} ({{ acceptance.email }}) has accepted version "
            "{{ acceptance.version }} of “{{ document.title }}”.</p>\n"
            "{% for title in together %}<p>Signed in the same act: “{{ title }}”.</p>\n"
            "{% endfor %}{% if acceptance.option %}<p>Chosen option: {{ acceptance.option }}"
            " — {{ acceptance.total }}</p>\n{% endif %}{% if document.kind == 'proposal' %}"
            "<p>The contract and its appendix have been prepared from the chosen option. "
            "Review them and send them to the client.</p>\n{% endif %}" + LINK_EN,
        ),
        audience="manager",
    ),  # fmt: skip
    Letter(
        "manager_question",
        _("Manager: the client's question"),
        ("document.title", "question.text", "question.who", "question.email", "link"),
        (
            "Вопрос по документу: {{ document.title }}",
            "<p>Вопрос по документу «{{ document.title }}» (сделка «{{ deal.title }}»):</p>\n"
            "<blockquote>{{ question.text }}</blockquote>\n<p>{% if question.who %}"
            "{{ question.who }}, {% endif %}{{ question.email }}<br>\nОтветьте на это письмо, "
            "чтобы ответить клиенту.</p>\n" + LINK_RU,
        ),
        (
            "Question about {{ document.title }}",
            "<p>A question about “{{ document.title }}” (deal “{{ deal.title }}”):</p>\n"
            "<blockquote>{{ question.text }}</blockquote>\n<p>{% if question.who %}"
            "{{ question.who }}, {% endif %}{{ question.email }}<br>\nReply to this email to "
            "answer the client.</p>\n" + LINK_EN,
        ),
        audience="manager",
    ),
    Letter(
        "manager_proposal_expired",
        _("Manager: proposal expired"),
        ("document.title", "document.valid_until", "link"),
        (
            "Истёк срок предложения: {{ deal.title }}",
            "<p>Предложение «{{ document.title }}» (сделка «{{ deal.title }}») действовало до "
            "{{ document.valid_until }}, а клиент его не принял. Теперь принять его нельзя.</p>\n"
            "<p>Позвоните клиенту или отправьте предложение снова с новым сроком действия.</p>\n"
            + LINK_RU,
        ),
        (
            "Proposal expired: {{ deal.title }}",
            "<p>The proposal “{{ document.title }}” (deal “{{ deal.title }}”) was valid until "
            "{{ document.valid_until }} and the client has not accepted it. The client can no "
            "longer accept it.</p>\n<p>Call the client, or send the proposal again with a new "
            "validity date.</p>\n" + LINK_EN,
        ),
        audience="manager",
    ),
    Letter(
        "manager_invoice_viewed",
        _("Manager: the client opened an invoice"),
        ("invoice.number", "invoice.buyer", "link"),
        (
            "Клиент открыл счёт № {{ invoice.number }}",
            "<p>{{ invoice.buyer }} впервые открыл(а) счёт № {{ invoice.number }} "
            "({{ deal.title }}).</p>\n" + LINK_RU.replace("Открыть сделку", "Открыть счёт"),
        ),
        (
            "The client opened invoice No. {{ invoice.number }}",
            "<p>{{ invoice.buyer }} opened invoice No. {{ invoice.number }} ({{ deal.title }}) "
            "for the first time.</p>\n" + LINK_EN.replace("Open the deal", "Open the invoice"),
        ),
        audience="manager",
    ),
    Letter(
        "manager_payment_received",
        _("Manager: payment received"),
        ("invoice.number", "invoice.status", "payment.amount", "payment.method", "link"),
        (
            "Оплата получена: счёт № {{ invoice.number }}",
            "<p>Получена оплата по счёту № {{ invoice.number }} ({{ deal.title }}).</p>\n"
            "<p>Сумма: {{ payment.amount }}<br>\nСпособ: {{ payment.method }}<br>\n"
            "Статус счёта: {{ invoice.status }}</p>\n"
            + LINK_RU.replace("Открыть сделку", "Открыть счёт"),
        ),
        (
            "Payment received: invoice No. {{ invoice.number }}",
            "<p>Payment received for invoice No. {{ invoice.number }} ({{ deal.title }}).</p>\n"
            "<p>Amount: {{ payment.amount }}<br>\nMethod: {{ payment.method }}<br>\n"
            "Invoice status: {{ invoice.status }}</p>\n"
            + LINK_EN.replace("Open the deal", "Open the invoice"),
        ),
        audience="manager",
    ),
    Letter(
        "manager_overpaid",
        _("Manager: overpayment"),
        ("invoice.number", "payment.overpaid", "link"),
        (
            "Переплата по счёту № {{ invoice.number }}",
            "<p>Клиент заплатил больше суммы счёта № {{ invoice.number }} ({{ deal.title }}).</p>"
            "\n<p>Переплата: {{ payment.overpaid }}</p>\n<p>Верните разницу клиенту или "
            "договоритесь, как её учесть, и отметьте возврат на странице счёта.</p>\n"
            + LINK_RU.replace("Открыть сделку", "Открыть счёт"),
        ),
        (
            "Overpayment on invoice No. {{ invoice.number }}",
            "<p>The client paid more than invoice No. {{ invoice.number }} ({{ deal.title }}) "
            "asks for.</p>\n<p>Overpaid: {{ payment.overpaid }}</p>\n<p>Return the difference "
            "to the client or agree how to use it, and record the refund on the invoice page."
            "</p>\n" + LINK_EN.replace("Open the deal", "Open the invoice"),
        ),
        audience="manager",
    ),
    Letter(
        "manager_payment_review",
        _("Manager: payment needs review"),
        ("invoice.number", "payment.amount", "payment.reported", "payment.detail", "link"),
        (
            "Платёж требует проверки: счёт № {{ invoice.number }}",
            "<p>Платёжный сервис сообщил о платеже по счёту № {{ invoice.number }} "
            "({{ deal.title }}), который не совпадает с запрошенным. Он не учтён.</p>\n"
            "<p>Ожидалось: {{ payment.amount }}<br>\nСообщено сервисом: {{ payment.reported }}"
            "{% if payment.detail %}<br>\n{{ payment.detail }}{% endif %}</p>\n<p>Проверьте "
            "платёж в личном кабинете платёжного сервиса и, если деньги поступили, отметьте его "
            "вручную.</p>\n" + LINK_RU.replace("Открыть сделку", "Открыть счёт"),
        ),
        (
            "Payment needs review: invoice No. {{ invoice.number }}",
            "<p>The payment service reported a payment for invoice No. {{ invoice.number }} "
            "({{ deal.title }}) that does not match what we asked for. It was not counted.</p>\n"
            "<p>Expected: {{ payment.amount }}<br>\nReported: {{ payment.reported }}"
            "{% if payment.detail %}<br>\n{{ payment.detail }}{% endif %}</p>\n<p>Check the "
            "payment in the provider's dashboard, then record it by hand if the money arrived."
            "</p>\n" + LINK_EN.replace("Open the deal", "Open the invoice"),
        ),
        audience="manager",
    ),
    Letter(
        "manager_client_email",
        _("Manager: email from the client"),
        ("email.sender", "email.subject", "link"),
        (
            "Письмо от клиента: {{ deal.title }}",
            "<p>{{ email.sender }} написал(а) по сделке «{{ deal.title }}» ({{ client.company }})."
            "</p>\n{% if email.subject %}<p>Тема: {{ email.subject }}</p>\n{% endif %}<p>Письмо "
            "в ленте сделки. Ответьте на это письмо, чтобы ответить клиенту.</p>\n" + LINK_RU,
        ),
        (
            "Email from the client: {{ deal.title }}",
            "<p>{{ email.sender }} wrote about the deal “{{ deal.title }}” ({{ client.company }})."
            "</p>\n{% if email.subject %}<p>Subject: {{ email.subject }}</p>\n{% endif %}<p>The "
            "email is on the deal's timeline. Reply to this email to answer the client.</p>\n"
            + LINK_EN,
        ),
        audience="manager",
    ),
    Letter(
        "manager_task_due",
        _("Manager: task reminder"),
        ("task.title", "link"),
        (
            "Напоминание: {{ task.title }}",
            "<p>Подошёл срок задачи: <strong>{{ task.title }}</strong>{% if deal.title %}<br>\n"
            "Сделка: {{ deal.title }}{% endif %}</p>\n" + LINK_RU.replace("сделку", "задачу"),
        ),
        (
            "Reminder: {{ task.title }}",
            "<p>A task is due: <strong>{{ task.title }}</strong>{% if deal.title %}<br>\n"
            "Deal: {{ deal.title }}{% endif %}</p>\n" + LINK_EN.replace("the deal", "the task"),
        ),
        audience="manager",
    ),
    Letter(
        "manager_rule_notice",
        _("Manager: automatic alert"),
        ("rule.name", "deal.stage", "link"),
        (
            "{{ rule.name }}: {{ deal.title }}",
            "<p>Автоматическое напоминание «{{ rule.name }}» по сделке «{{ deal.title }}».</p>\n"
            "{% if deal.stage %}<p>Этап: {{ deal.stage }}</p>\n{% endif %}" + LINK_RU,
        ),
        (
            "{{ rule.name }}: {{ deal.title }}",
            "<p>Automatic reminder “{{ rule.name }}” for the deal “{{ deal.title }}”.</p>\n"
            "{% if deal.stage %}<p>Stage: {{ deal.stage }}</p>\n{% endif %}" + LINK_EN,
        ),
        audience="manager",
    ),
)

STATUS_UPDATE = Letter(
    "status_update",
    _("Status update"),
    ("status.stage", "status.note", "status.moved"),
    (
        "{{ studio.name }}: как идут дела с «{{ deal.title }}»",
        HELLO_RU + "<p>{% if status.moved %}Проект «{{ deal.title }}» перешёл на этап "
        "«{{ status.stage }}».{% else %}Коротко о том, как идёт работа над «{{ deal.title }}» "
        "(сейчас этап «{{ status.stage }}»).{% endif %}</p>\n"
        "{% if status.note %}<blockquote>{{ status.note }}</blockquote>\n{% endif %}"
        "<p>Если есть вопросы или что-то изменилось с вашей стороны — просто ответьте на это "
        "письмо.</p>",
    ),
    (
        "{{ studio.name }}: how “{{ deal.title }}” is going",
        HELLO_EN + "<p>{% if status.moved %}The project “{{ deal.title }}” has moved to the "
        "stage “{{ status.stage }}”.{% else %}A short update on how the work on "
        "“{{ deal.title }}” is going (currently at the stage “{{ status.stage }}”).{% endif %}"
        "</p>\n{% if status.note %}<blockquote>{{ status.note }}</blockquote>\n{% endif %}"
        "<p>If you have questions, or something has changed on your side, just reply to this "
        "email.</p>",
    ),
)

DIGEST = Letter(
    "manager_digest",
    _("Manager: morning digest"),
    ("day", "tasks", "client_actions", "idle", "idle_days", "link"),
    (
        "Ваш день, {{ day }}",
        "<p>{% if manager.name %}Доброе утро, {{ manager.name }}!{% else %}Доброе утро!"
        "{% endif %}</p>\n{% if tasks %}<h3>Задачи на сегодня</h3>\n<ul>{% for task in tasks %}"
        "<li>{{ task.time }} {{ task.title }}{% if task.deal %} ({{ task.deal }}){% endif %}"
        "</li>{% endfor %}</ul>\n{% endif %}{% if client_actions %}<h3>Что клиенты сделали "
        'вчера</h3>\n<ul>{% for item in client_actions %}<li><a href="{{ item.link }}">'
        "{{ item.label }}: {{ item.deal }}</a></li>{% endfor %}</ul>\n{% endif %}{% if idle %}"
        "<h3>Сделки без движения {{ idle_days }} дней и дольше</h3>\n<ul>{% for deal in idle %}"
        '<li><a href="{{ deal.link }}">{{ deal.title }}</a> ({{ deal.stage }}, с '
        "{{ deal.since }})</li>{% endfor %}</ul>\n{% endif %}"
        '<p><a class="button" href="{{ link }}">Мой день</a></p>',
    ),
    (
        "Your day, {{ day }}",
        "<p>{% if manager.name %}Good morning, {{ manager.name }}!{% else %}Good morning!"
        "{% endif %}</p>\n{% if tasks %}<h3>Tasks for today</h3>\n<ul>{% for task in tasks %}"
        "<li>{{ task.time }} {{ task.title }}{% if task.deal %} ({{ task.deal }}){% endif %}"
        "</li>{% endfor %}</ul>\n{% endif %}{% if client_actions %}<h3>What clients did "
        'yesterday</h3>\n<ul>{% for item in client_actions %}<li><a href="{{ item.link }}">'
        "{{ item.label }}: {{ item.deal }}</a></li>{% endfor %}</ul>\n{% endif %}{% if idle %}"
        "<h3>Deals without a move for {{ idle_days }} days or more</h3>\n<ul>"
        '{% for deal in idle %}<li><a href="{{ deal.link }}">{{ deal.title }}</a> '
        "({{ deal.stage }}, since {{ deal.since }})</li>{% endfor %}</ul>\n{% endif %}"
        '<p><a class="button" href="{{ link }}">My day</a></p>',
    ),
    audience="manager",
)

CLIENT_LETTERS = LETTERS + (STATUS_UPDATE,)
MANAGER_LETTERS += (DIGEST,)
LETTERS = CLIENT_LETTERS + MANAGER_LETTERS
BY_KEY = {letter.key: letter for letter in LETTERS}
