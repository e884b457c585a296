"""Permission rules of the manual. The manual is not secret: the applicant chapter (and the "how we judge" explainer)
is public so that unions can hand it to organizations before a call; the other roles' chapters are for anyone
signed in (staff train judges and supervisors from them)."""

from venture.permissions import register


def may_read_chapter(user, chapter):
    if chapter is None:
        return False
    if chapter.public:
        return True
    return user is not None and user.is_authenticated and user.is_active


register("help.chapter", may_read_chapter)
