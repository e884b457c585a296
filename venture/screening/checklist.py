"""What the round's set-up needs of the screening checklist (registered in ``venture.competitions.setup``): a round
made from an earlier one starts with a copy of that round's checklist."""

from venture.competitions import setup

from .models import ChecklistItem


def copy_checklist(source, competition):
    items = [
        ChecklistItem(competition=competition, text=item.text, order=item.order)
        for item in ChecklistItem.objects.filter(competition=source)
    ]
    ChecklistItem.objects.bulk_create(items)
    return {"checklist": [item.text for item in items]}


setup.register(setup.SetupPart(name="checklist", order=55, on_copy=copy_checklist))
