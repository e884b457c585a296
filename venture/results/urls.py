from django.urls import path

from . import reveal, views

# Included at the site root: the results pages keep the addresses they had under the awards app, and the finalists
# decision the one it had under screening. The results report PDF (results:report_pdf) is a view of
# venture.documents, mounted into this namespace by the root URLconf.
app_name = "results"
urlpatterns = [
    path("results/round/<int:competition_pk>/results/", views.results, name="results"),
    path("results/round/<int:competition_pk>/results/freeze/", views.freeze, name="freeze"),
    path("results/round/<int:competition_pk>/results/verify/", views.verify_view, name="verify"),
    path("results/round/<int:competition_pk>/results/sign-off/", views.sign_off_view, name="sign_off"),
    path("results/round/<int:competition_pk>/results/unlock/<int:sheet_pk>/", views.unlock, name="unlock"),
    path("results/round/<int:competition_pk>/results/reveal/", reveal.reveal, name="reveal"),
    path("screening/round/<int:competition_pk>/finalists/", views.finalists, name="finalists"),
]
