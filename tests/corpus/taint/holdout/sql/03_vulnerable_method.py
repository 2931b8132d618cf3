# expect: vulnerable sql
from django.http import HttpResponse
from sqlalchemy import create_engine, text


class Holder:
    def unwrap(self, item):
        return item


def update_profile(request, user_id):
    value = Holder().unwrap(request.POST["field"])
    engine = create_engine("sqlite://")
    with engine.connect() as c:
        c.execute(text("SELECT * FROM logs WHERE tag = '" + value + "'"))
