from django.db import transaction

from venture.accounts.models import Role
from venture.audit.services import record

from .models import User


@transaction.atomic
def sign_up_applicant(*, username, full_name, email, mobile, password):
    user = User(username=username, full_name=full_name, email=email, mobile=mobile, role=Role.APPLICANT)
    user.set_password(password)
    user.save()
    record(actor=user, action="account.signup", obj=user, after={"username": username, "role": user.role})
    return user
