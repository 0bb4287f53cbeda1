"""factory_boy factories for the domain. Import from here in every test module."""

from datetime import timedelta

import factory
from django.utils import timezone

from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import User
from studiocrm.deals.models import NEW, Deal, Note, Source, Task


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@studio.test")
    first_name = factory.Faker("first_name")
    role = User.Role.MANAGER
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


def with_authenticator(user: User):
    """Give a user a confirmed authenticator app (a TOTP device); returns the device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Faker("company")
    kind = Client.Kind.COMPANY


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.test")


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    title = factory.Faker("catch_phrase")
    client = factory.SubFactory(ClientFactory)
    contact = factory.SubFactory(ContactFactory, client=factory.SelfAttribute("..client"))
    manager = factory.SubFactory(UserFactory)
    source = Source.WEBSITE
    stage_id = NEW
    currency = "RUB"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Faker("sentence", nb_words=4)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))
    deal = factory.SubFactory(DealFactory)
    assignee = factory.SelfAttribute("deal.manager")


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    deal = factory.SubFactory(DealFactory)
    text = factory.Faker("sentence")
