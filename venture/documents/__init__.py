"""Printable documents and spreadsheet exports, each reachable from the page it belongs to.

PDFs go through ``venture.pdf`` (templates in ``templates/pdf/``), spreadsheets through ``venture.exports``:
the application book of one proposal and of all finalists, the blank and the filled judge score sheet, the public
notice, the grant agreement, the results report (kept once rendered, ``results_report``) and a project's supervision
report; the proposals of a round, the score matrix (written in the background and downloaded when ready,
``score_matrix``) and the frozen ranking as xlsx or csv. Every PDF view of the site
is here; the results and supervision reports keep their stage's address and URL name (see ``urls``).
Every export that contains personal data writes an audit event (PIPL).
"""
