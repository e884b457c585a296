"""Permission rules of accounts: unlocking a login lock (admin) and resetting another member's second factor."""

from venture.permissions import is_staff, register


def staff_not_self(user, member):
    """Recovery of a member's second factor is done by *another* staff member."""
    return is_staff(user) and member is not None and member.pk != user.pk


register("login.unlock", is_staff)
register("account.reset_two_factor", staff_not_self)
