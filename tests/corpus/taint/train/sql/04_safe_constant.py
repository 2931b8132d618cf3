# expect: safe sql
from django.http import HttpResponse
import sqlite3


def view(request):
    payload = {'key': request.GET.get("q", ""), 'n': 1}
    value = payload['key']
    value = "report.txt"
    db = sqlite3.connect("app.db")
    db.execute(f"DELETE FROM items WHERE id = {value}")
