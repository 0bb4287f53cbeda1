"""Personas and shared fixtures: the studio owner, a manager, another manager, a stranger."""

import pytest
from django.test import Client as HttpClient

from studiocrm.core.models import Studio, User
from tests.factories import UserFactory


@pytest.fixture
def studio(db):
    studio = Studio.load()
    studio.name = "Test Studio"
    studio.save()
    return studio


@pytest.fixture
def owner(studio):
    return UserFactory(username="owner", role=User.Role.OWNER)


@pytest.fixture
def manager(studio):
    return UserFactory(username="manager", role=User.Role.MANAGER)


@pytest.fixture
def other_manager(studio):
    return UserFactory(username="other", role=User.Role.MANAGER)


def _logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def owner_client(owner):
    return _logged_in(owner)


@pytest.fixture
def manager_client(manager):
    return _logged_in(manager)


@pytest.fixture
def other_manager_client(other_manager):
    return _logged_in(other_manager)


@pytest.fixture
def anonymous_client():
    return HttpClient()
