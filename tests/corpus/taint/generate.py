"""generate writes the labelled taint corpus: ``python -m tests.corpus.taint.generate``.

Every case is a small module in ``<split>/<category>/<nn>_<vulnerable|safe>_<how>.py``
whose first line says what a reviewer must report: ``# expect: vulnerable <category>`` or
``# expect: safe <category>``. Each vulnerable case sits beside a near-miss built from the
same source and flow: sanitized, a safe API (wrong sink), overwritten by a constant, or
behind a branch that cannot run.

Two splits, written in different styles so that the engine is measured on code it was not
tuned on: ``train`` (Flask ``request.args``/``form``, Django ``GET``, FastAPI parameters,
``input()``; direct, helper-function, container and tuple flows) was used while building
the engine; ``holdout`` (cookies, headers, Django ``POST``, Starlette, ``sys.argv``,
Flask URL parts; ``format``, ``join``, loop, walrus and method flows, other sanitizers
and sinks) was written apart and only ever measured. The files are committed; this
script is how they were made, rerunnable and deterministic. A third split, ``wild/``, is
hand-written (not generated, left alone by this script): 42 cases in other idioms, written
after the engine and measured once before any change (tests/bench/RESULTS.md).
A fourth, ``unseen/`` (40 hand-written cases: Starlette routes, ``ldap3``, ``pathlib``,
``asyncio`` subprocesses, Django's ``format_html``...), was committed before the engine
first ran on it and is measured untouched.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parent


@dataclass(frozen=True)
class Source:
    family: str  # flask | django | asgi | cli
    imports: str
    header: str  # the def line(s)
    expression: str


@dataclass(frozen=True)
class Sink:
    families: str  # space-separated families it fits, "any" for all
    imports: str
    code: str  # statements using {v}; may return


SOURCES = {
    "train": [
        Source("flask", "from flask import Flask, request\n\napp = Flask(__name__)\n",
               '@app.route("/item")\ndef view():', 'request.args.get("q", "")'),
        Source("flask", "from flask import Flask, request\n\napp = Flask(__name__)\n",
               '@app.post("/submit")\ndef view():', 'request.form["q"]'),
        Source("django", "from django.http import HttpResponse\n",
               "def view(request):", 'request.GET.get("q", "")'),
        Source("asgi", "from fastapi import FastAPI\n\napp = FastAPI()\n",
               '@app.get("/item")\ndef view(q: str):', "q"),
        Source("cli", "", "def main():", 'input("value: ")'),
    ],
    "holdout": [
        Source("flask", "import flask\n\nweb = flask.Flask(__name__)\n",
               '@web.route("/pref")\ndef show_pref():', 'flask.request.cookies.get("pref")'),
        Source("flask", "from flask import Flask, request as req\n\nsite = Flask(__name__)\n",
               '@site.route("/api", methods=["POST"])\ndef api_call():', 'req.headers["X-Target"]'),
        Source("django", "from django.http import HttpResponse\n",
               "def update_profile(request, user_id):", 'request.POST["field"]'),
        Source("asgi", "from starlette.requests import Request\n",
               "async def endpoint(request: Request):", 'request.query_params["term"]'),
        Source("cli", "import sys\n", "def run_tool():", "sys.argv[1]"),
        Source("flask", "from flask import Flask\n\nsite = Flask(__name__)\n",
               '@site.route("/files/<name>")\ndef by_name(name):', "name"),
    ],
}

# Flows: lines that leave the source's value in `value`; helper code goes at module level.
FLOWS = {
    "train": [
        ("direct", "", ["value = {src}"]),
        ("helper", "\n\ndef tidy(text):\n    cleaned = text.strip()\n    return cleaned\n",
         ["value = tidy({src})"]),
        ("container", "", ["payload = {{'key': {src}, 'n': 1}}", "value = payload['key']"]),
        ("tuple", "", ["value, limit = {src}, 10"]),
    ],
    "holdout": [
        ("format", "", ["raw = {src}", 'value = "{{}}".format(raw)']),
        ("join", "", ["pieces = [{src}]", 'value = "".join(pieces)']),
        ("loop", "", ['value = ""', "for ch in {src}:", "    value += ch"]),
        ("walrus", "", ["if (value := {src}) is None:", '    value = ""']),
        ("method", "\n\nclass Holder:\n    def unwrap(self, item):\n        return item\n",
         ["value = Holder().unwrap({src})"]),
        ("chain", "\n\ndef first(x):\n    return second(x)\n\n\ndef second(y):\n    return y\n",
         ["value = first({src})"]),
    ],
}

WEB = "flask django asgi"
# category -> split -> (vulnerable sinks, safe sinks with how they are safe)
C: dict[str, dict[str, tuple[list[Sink], list[tuple[str, Sink]]]]] = {
    "command": {
        "train": (
            [Sink("any", "import os\n", 'os.system("ping -c 1 " + {v})'),
             Sink("any", "import subprocess\n", 'subprocess.call(f"grep {{{v}}} app.log", shell=True)'),
             Sink("any", "import os\n", 'output = os.popen("cat %s" % {v}).read()')],
            [("sanitized", Sink("any", "import os\nimport shlex\n", 'os.system("ping -c 1 " + shlex.quote({v}))')),
             ("safe-api", Sink("any", "import subprocess\n", 'subprocess.run(["ping", "-c", "1", {v}], check=False)'))],
        ),
        "holdout": (
            [Sink("any", "import subprocess\n", 'subprocess.check_output("nslookup " + {v}, shell=True)'),
             Sink("any", "from subprocess import Popen\n", 'proc = Popen("tar czf backup.tgz %s" % {v}, shell=True)'),
             Sink("any", "import os\n", 'cmd = "convert {{}} out.png".format({v})\nos.system(cmd)')],
            [("sanitized", Sink("any", "import subprocess\nfrom shlex import quote\n", 'subprocess.call("grep " + quote({v}) + " app.log", shell=True)')),
             ("safe-api", Sink("any", "import subprocess\n", 'subprocess.check_output(["nslookup", {v}])'))],
        ),
    },
    "sql": {
        "train": (
            [Sink("any", "import sqlite3\n", 'cur = sqlite3.connect("app.db").cursor()\ncur.execute("SELECT * FROM users WHERE name = \'" + {v} + "\'")'),
             Sink("any", "import sqlite3\n", 'db = sqlite3.connect("app.db")\ndb.execute(f"DELETE FROM items WHERE id = {{{v}}}")'),
             Sink("any", "import sqlite3\n", 'conn = sqlite3.connect("app.db")\nrows = conn.execute("SELECT * FROM t WHERE a = \'%s\'" % {v}).fetchall()')],
            [("parameterized", Sink("any", "import sqlite3\n", 'cur = sqlite3.connect("app.db").cursor()\ncur.execute("SELECT * FROM users WHERE name = ?", ({v},))')),
             ("sanitized", Sink("any", "import sqlite3\n", 'db = sqlite3.connect("app.db")\ndb.execute("DELETE FROM items WHERE id = %d" % int({v}))'))],
        ),
        "holdout": (
            [Sink("any", "import psycopg2\n", 'with psycopg2.connect("dbname=app") as conn:\n    with conn.cursor() as cursor:\n        cursor.execute("UPDATE accounts SET note = \'{{}}\'".format({v}))'),
             Sink("any", "from sqlalchemy import create_engine, text\n", 'engine = create_engine("sqlite://")\nwith engine.connect() as c:\n    c.execute(text("SELECT * FROM logs WHERE tag = \'" + {v} + "\'"))'),
             Sink("any", "import sqlite3\n", 'query = "SELECT id FROM orders WHERE ref = \'%s\'" % {v}\nsqlite3.connect("shop.db").executescript(query)')],
            [("parameterized", Sink("any", "import psycopg2\n", 'with psycopg2.connect("dbname=app") as conn:\n    with conn.cursor() as cursor:\n        cursor.execute("UPDATE accounts SET note = %s", ({v},))')),
             ("parameterized", Sink("any", "from sqlalchemy import create_engine, text\n", 'engine = create_engine("sqlite://")\nwith engine.connect() as c:\n    c.execute(text("SELECT * FROM logs WHERE tag = :tag"), {{"tag": {v}}})'))],
        ),
    },
    "deserialization": {
        "train": (
            [Sink("any", "import base64\nimport pickle\n", "obj = pickle.loads(base64.b64decode({v}))"),
             Sink("any", "import yaml\n", "config = yaml.load({v}, Loader=yaml.Loader)"),
             Sink("any", "import yaml\n", "config = yaml.unsafe_load({v})")],
            [("safe-api", Sink("any", "import json\n", "obj = json.loads({v})")),
             ("safe-api", Sink("any", "import yaml\n", "config = yaml.safe_load({v})"))],
        ),
        "holdout": (
            [Sink("any", "import pickle\n", "state = pickle.loads({v}.encode('latin-1'))"),
             Sink("any", "import marshal\n", "code = marshal.loads(bytes.fromhex({v}))"),
             Sink("any", "import jsonpickle\n", "item = jsonpickle.decode({v})")],
            [("safe-api", Sink("any", "import yaml\n", "data = yaml.load({v}, Loader=yaml.SafeLoader)")),
             ("safe-api", Sink("any", "import json\nimport pickle\n", 'settings = json.loads({v})\nblob = pickle.dumps(settings)'))],
        ),
    },
    "code": {
        "train": (
            [Sink("any", "", "result = eval({v})"),
             Sink("any", "", 'exec("total = " + {v})'),
             Sink("any", "", 'answer = eval(f"{{{v}}} * 2")')],
            [("safe-api", Sink("any", "import ast\n", "result = ast.literal_eval({v})")),
             ("sanitized", Sink("any", "", 'answer = eval(str(int({v})) + " * 2")'))],
        ),
        "holdout": (
            [Sink("any", "", 'compiled = compile({v}, "<input>", "exec")\nexec(compiled)'),
             Sink("any", "import builtins\n", "value2 = builtins.eval({v})"),
             Sink("any", "", 'namespace = {{}}\nexec("def f():\\n    return " + {v}, namespace)')],
            [("allow-list", Sink("any", "", 'OPS = {{"add": 1, "sub": 2}}\nif {v} in OPS:\n    code = eval(str(OPS[{v}]))')),
             ("safe-api", Sink("any", "import json\n", "parsed = json.loads({v})"))],
        ),
    },
    "xss": {
        "train": (
            [Sink("flask", "", 'return "<h1>Hello " + {v} + "</h1>"'),
             Sink("flask", "from flask import make_response\n", 'return make_response(f"<p>{{{v}}}</p>")'),
             Sink("django", "", 'return HttpResponse("<p>%s</p>" % {v})'),
             Sink("asgi", "from fastapi.responses import HTMLResponse\n", 'return HTMLResponse(f"<i>{{{v}}}</i>")')],
            [("sanitized", Sink("flask", "import html\n", 'return "<h1>Hello " + html.escape({v}) + "</h1>"')),
             ("safe-api", Sink("flask", "from flask import render_template\n", 'return render_template("hello.html", name={v})')),
             ("sanitized", Sink("django", "from django.utils.html import escape\n", 'return HttpResponse("<p>%s</p>" % escape({v}))')),
             ("safe-api", Sink("asgi", "from fastapi.responses import JSONResponse\n", 'return JSONResponse({{"q": {v}}})'))],
        ),
        "holdout": (
            [Sink("flask", "from flask import render_template_string\n", 'return render_template_string("<b>" + {v} + "</b>")'),
             Sink("django", "from django.utils.safestring import mark_safe\n", 'return HttpResponse(mark_safe({v}))'),
             Sink("asgi", "from starlette.responses import HTMLResponse\n", 'body = "<div>{{}}</div>".format({v})\nreturn HTMLResponse(body)'),
             Sink("flask", "from markupsafe import Markup\n", 'return Markup("<em>%s</em>" % {v})')],
            [("sanitized", Sink("flask", "from markupsafe import escape\n", 'return "<b>" + str(escape({v})) + "</b>"')),
             ("safe-api", Sink("django", "from django.http import JsonResponse\n", 'return JsonResponse({{"field": {v}}})')),
             ("safe-api", Sink("asgi", "from starlette.responses import PlainTextResponse\n", "return PlainTextResponse({v})")),
             ("safe-api", Sink("flask", "from flask import Response\n", 'return Response({v}, mimetype="text/plain")'))],
        ),
    },
    "path": {
        "train": (
            [Sink("any", "import os\n", 'with open(os.path.join("/srv/data", {v})) as fh:\n    content = fh.read()'),
             Sink("flask", "from flask import send_file\n", 'return send_file("/srv/files/" + {v})'),
             Sink("any", "import os\n", 'os.remove(f"/tmp/uploads/{{{v}}}")')],
            [("sanitized", Sink("any", "import os\nfrom werkzeug.utils import secure_filename\n", 'with open(os.path.join("/srv/data", secure_filename({v}))) as fh:\n    content = fh.read()')),
             ("safe-api", Sink("flask", "from flask import send_from_directory\n", 'return send_from_directory("/srv/files", {v})')),
             ("contained", Sink("any", "import os\n", 'base = "/srv/data"\ntarget = os.path.realpath(os.path.join(base, {v}))\nif not target.startswith(base + os.sep):\n    raise ValueError("outside")\nos.remove(target)'))],
        ),
        "holdout": (
            [Sink("any", "from pathlib import Path\n", 'text = (Path("/var/reports") / {v}).read_text()'),
             Sink("any", "import shutil\n", 'shutil.copyfile("/srv/in/" + {v}, "/srv/out/copy")'),
             Sink("any", "import io\n", 'handle = io.open("/data/{{}}".format({v}), "rb")')],
            [("sanitized", Sink("any", "import os\n", 'name = os.path.basename({v})\nhandle = open("/data/" + name, "rb")')),
             ("contained", Sink("any", "from pathlib import Path\n", 'root = Path("/var/reports").resolve()\nwanted = (root / {v}).resolve()\nif wanted.is_relative_to(root):\n    text = wanted.read_text()')),
             ("allow-list", Sink("any", "", 'REPORTS = ("daily.txt", "weekly.txt")\nif {v} not in REPORTS:\n    return None\nhandle = open("/var/reports/" + {v})'))],
        ),
    },
    "redirect": {
        "train": (
            [Sink("flask", "from flask import redirect\n", "return redirect({v})"),
             Sink("django", "from django.http import HttpResponseRedirect\n", "return HttpResponseRedirect({v})"),
             Sink("asgi", "from fastapi.responses import RedirectResponse\n", "return RedirectResponse(url={v})")],
            [("safe-api", Sink("flask", "from flask import redirect, url_for\n", 'return redirect(url_for("profile", user={v}))')),
             ("validated", Sink("django", "from django.http import HttpResponseRedirect\nfrom django.utils.http import url_has_allowed_host_and_scheme\n", 'if not url_has_allowed_host_and_scheme({v}, allowed_hosts={{"example.com"}}):\n    return HttpResponseRedirect("/")\nreturn HttpResponseRedirect({v})')),
             ("allow-list", Sink("asgi", "from fastapi.responses import RedirectResponse\n", 'ALLOWED = {{"/home", "/account"}}\nif {v} not in ALLOWED:\n    return RedirectResponse(url="/home")\nreturn RedirectResponse(url={v})'))],
        ),
        "holdout": (
            [Sink("flask", "import flask\n", 'target = "{{}}".format({v})\nreturn flask.redirect(target, code=302)'),
             Sink("django", "from django.shortcuts import redirect\n", "return redirect({v})"),
             Sink("asgi", "from starlette.responses import RedirectResponse\n", "return RedirectResponse({v}, status_code=303)")],
            [("validated", Sink("flask", "from urllib.parse import urlparse\nfrom flask import redirect\n", 'if urlparse({v}).netloc:\n    return redirect("/")\nreturn redirect({v})')),
             ("allow-list", Sink("django", "from django.shortcuts import redirect\n", 'NEXT_PAGES = ["/dashboard", "/settings"]\nif {v} in NEXT_PAGES:\n    return redirect({v})\nreturn redirect("/dashboard")')),
             ("constant", Sink("asgi", "from starlette.responses import RedirectResponse\n", 'print({v})\nreturn RedirectResponse("/login", status_code=303)'))],
        ),
    },
    "ldap": {
        "train": (
            [Sink("any", "from ldap3 import Connection, Server\n", 'conn = Connection(Server("ldap://dir"), auto_bind=True)\nconn.search("dc=example,dc=com", "(uid=" + {v} + ")")'),
             Sink("any", "import ldap\n", 'l = ldap.initialize("ldap://dir")\nl.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(cn={{{v}}})")')],
            [("sanitized", Sink("any", "from ldap3 import Connection, Server\nfrom ldap3.utils.conv import escape_filter_chars\n", 'conn = Connection(Server("ldap://dir"), auto_bind=True)\nconn.search("dc=example,dc=com", "(uid=" + escape_filter_chars({v}) + ")")')),
             ("wrong-sink", Sink("any", "from ldap3 import Connection, Server\n", 'conn = Connection(Server("ldap://dir"), auto_bind=True)\nconn.search("dc=example,dc=com", "(objectClass=person)", attributes=["cn"])\nprint({v})'))],
        ),
        "holdout": (
            [Sink("any", "import ldap3\n", 'c = ldap3.Connection("ldap://dir")\nc.search(search_base="ou=people,dc=x", search_filter="(&(mail={{}})(active=1))".format({v}))'),
             Sink("any", "import ldap\n", 'handle = ldap.initialize("ldap://dir")\nflt = "(sAMAccountName=%s)" % {v}\nhandle.search_ext_s("dc=corp", ldap.SCOPE_SUBTREE, flt)')],
            [("sanitized", Sink("any", "import ldap\nimport ldap.filter\n", 'handle = ldap.initialize("ldap://dir")\nflt = "(sAMAccountName=%s)" % ldap.filter.escape_filter_chars({v})\nhandle.search_ext_s("dc=corp", ldap.SCOPE_SUBTREE, flt)')),
             ("allow-list", Sink("any", "import ldap3\n", 'GROUPS = ("admins", "staff")\nif {v} in GROUPS:\n    c = ldap3.Connection("ldap://dir")\n    c.search("dc=x", "(cn=" + {v} + ")")'))],
        ),
    },
    "xpath": {
        "train": (
            [Sink("any", "from lxml import etree\n", 'tree = etree.parse("users.xml")\nfound = tree.xpath("//user[@name=\'" + {v} + "\']")'),
             Sink("any", "import xml.etree.ElementTree as ET\n", 'root = ET.parse("items.xml").getroot()\nitems = root.findall(f".//item[@id=\'{{{v}}}\']")')],
            [("parameterized", Sink("any", "from lxml import etree\n", 'tree = etree.parse("users.xml")\nfound = tree.xpath("//user[@name=$name]", name={v})')),
             ("wrong-sink", Sink("any", "import xml.etree.ElementTree as ET\n", 'root = ET.parse("items.xml").getroot()\nitems = root.findall(".//item")\nlabel = {v}.upper()'))],
        ),
        "holdout": (
            [Sink("any", "from lxml import etree\n", 'find = etree.XPath("//account[number=\'%s\']" % {v})\nhits = find(etree.parse("accounts.xml"))'),
             Sink("any", "from lxml import etree\n", 'doc = etree.fromstring(b"<r/>")\nexpr = "//entry[title=\'{{}}\']".format({v})\nentries = doc.xpath(expr)')],
            [("validated", Sink("any", "import re\nfrom lxml import etree\n", 'if not re.fullmatch(r"[0-9]+", {v}):\n    return None\nfind = etree.XPath("//account[number=\'%s\']" % {v})')),
             ("parameterized", Sink("any", "from lxml import etree\n", 'doc = etree.fromstring(b"<r/>")\nentries = doc.xpath("//entry[title=$t]", t={v})'))],
        ),
    },
    "xxe": {
        "train": (
            [Sink("any", "from lxml import etree\n", "doc = etree.fromstring({v}.encode())"),
             Sink("any", "import io\nfrom lxml import etree\n", "doc = etree.parse(io.BytesIO({v}.encode()))")],
            [("safe-api", Sink("any", "import defusedxml.ElementTree as DET\n", "doc = DET.fromstring({v})")),
             ("safe-parser", Sink("any", "from lxml import etree\n", "parser = etree.XMLParser(resolve_entities=False, no_network=True)\ndoc = etree.fromstring({v}.encode(), parser=parser)"))],
        ),
        "holdout": (
            [Sink("any", "import lxml.etree\n", "tree = lxml.etree.XML({v})"),
             Sink("any", "import xml.sax\nfrom xml.sax.handler import feature_external_ges\n", "parser = xml.sax.make_parser()\nparser.setFeature(feature_external_ges, True)\nxml.sax.parseString({v}.encode(), xml.sax.ContentHandler())")],
            [("safe-api", Sink("any", "import xml.etree.ElementTree as ET\n", "tree = ET.fromstring({v})")),
             ("safe-parser", Sink("any", "import lxml.etree\n", "tree = lxml.etree.XML({v}, lxml.etree.XMLParser(resolve_entities=False))"))],
        ),
    },
    "trust": {
        "train": (
            [Sink("flask", "from flask import session\n", 'session["username"] = {v}\nreturn "ok"'),
             Sink("django", "", 'request.session["role"] = {v}\nreturn HttpResponse("ok")')],
            [("sanitized", Sink("flask", "from flask import session\n", 'session["user_id"] = int({v})\nreturn "ok"')),
             ("constant", Sink("django", "", 'request.session["role"] = "guest"\nreturn HttpResponse({v} and "ok")'))],
        ),
        "holdout": (
            [Sink("flask", "from flask import session\n", 'session.update({{"theme": {v}}})\nreturn "saved"'),
             Sink("flask", "import flask\n", 'flask.session[{v}] = True\nreturn "saved"'),
             Sink("django", "", 'prefs = {{"lang": {v}}}\nrequest.session["prefs"] = prefs\nreturn HttpResponse("saved")')],
            [("allow-list", Sink("flask", "from flask import session\n", 'THEMES = {{"light", "dark"}}\nif {v} in THEMES:\n    session["theme"] = {v}\nreturn "saved"')),
             ("wrong-sink", Sink("flask", "import logging\n", 'logging.getLogger(__name__).info("theme %s", {v})\nreturn "saved"')),
             ("validated", Sink("django", "", 'if not {v}.isdigit():\n    return HttpResponse("bad", status=400)\nrequest.session["page"] = {v}\nreturn HttpResponse("saved")'))],
        ),
    },
    "cookie": {
        "train": (
            [Sink("flask", "from flask import make_response\n", 'resp = make_response("ok")\nresp.set_cookie("pref", str(len({v})))\nreturn resp'),
             Sink("django", "", 'response = HttpResponse("ok")\nresponse.set_cookie("seen", "1", secure=False, httponly=True)\nreturn response')],
            [("secure", Sink("flask", "from flask import make_response\n", 'resp = make_response("ok")\nresp.set_cookie("pref", str(len({v})), secure=True, httponly=True)\nreturn resp')),
             ("secure", Sink("django", "", 'response = HttpResponse(str(len({v})))\nresponse.set_cookie("seen", "1", secure=True, httponly=True, samesite="Lax")\nreturn response'))],
        ),
        "holdout": (
            [Sink("asgi", "from starlette.responses import Response\n", 'out = Response("ok")\nout.set_cookie(key="visit", value=str(len({v})), httponly=True)\nreturn out'),
             Sink("flask", "import flask\n", 'r = flask.make_response("ok")\nr.set_cookie("lang", "en", max_age=3600)\nreturn r')],
            [("secure", Sink("asgi", "from starlette.responses import Response\n", 'out = Response(str(len({v})))\nout.set_cookie(key="visit", value="1", secure=True, httponly=True, samesite="strict")\nreturn out')),
             ("wrong-sink", Sink("flask", "import flask\n", 'r = flask.make_response("ok")\nr.headers["X-Lang"] = str(len({v}))\nreturn r'))],
        ),
    },
    "hash": {
        "train": (
            [Sink("any", "import hashlib\n", "digest = hashlib.md5({v}.encode()).hexdigest()"),
             Sink("any", "import hashlib\n", "digest = hashlib.sha1({v}.encode()).hexdigest()")],
            [("safe-api", Sink("any", "import hashlib\n", "digest = hashlib.sha256({v}.encode()).hexdigest()")),
             ("not-security", Sink("any", "import hashlib\n", "etag = hashlib.md5({v}.encode(), usedforsecurity=False).hexdigest()"))],
        ),
        "holdout": (
            [Sink("any", "import hashlib\n", 'h = hashlib.new("md5")\nh.update({v}.encode())\nstored = h.hexdigest()'),
             Sink("any", "from hashlib import sha1\n", "stored = sha1({v}.encode()).hexdigest()")],
            [("safe-api", Sink("any", "import hashlib\n", 'stored = hashlib.scrypt({v}.encode(), salt=b"s4lt", n=2**14, r=8, p=1).hex()')),
             ("safe-api", Sink("any", "import hashlib\n", 'h = hashlib.new("sha512")\nh.update({v}.encode())\nstored = h.hexdigest()'))],
        ),
    },
    "random": {
        "train": (
            [Sink("any", "import random\nimport string\n", 'token = "".join(random.choice(string.ascii_letters) for _ in range(32))\nprint({v}, token)'),
             Sink("any", "import random\n", "reset_code = random.randint(100000, 999999)\nprint({v}, reset_code)")],
            [("safe-api", Sink("any", "import secrets\n", "token = secrets.token_urlsafe(32)\nprint({v}, token)")),
             ("not-secret", Sink("any", "import random\n", 'COLORS = ["red", "green"]\ncolor = random.choice(COLORS)\nprint({v}, color)'))],
        ),
        "holdout": (
            [Sink("any", "import random\n", 'session_key = "%032x" % random.getrandbits(128)\nprint({v}, session_key)'),
             Sink("any", "from random import randrange\n", "otp = str(randrange(10**6)).zfill(6)\nprint({v}, otp)")],
            [("safe-api", Sink("any", "import random\n", "rng = random.SystemRandom()\notp = str(rng.randrange(10**6)).zfill(6)\nprint({v}, otp)")),
             ("not-secret", Sink("any", "import random\n", "delay = random.uniform(0.5, 1.5)\nprint({v}, delay)"))],
        ),
    },
}
# Generic near-misses, applied to any vulnerable sink: the value replaced by a constant
# before the sink, or the sink behind a condition that is never true.
DEAD = [
    "if False:",
    "DEBUG_MODE = 7 * 6 == 41\nif DEBUG_MODE:",
    "limit = 10\nif limit > 99:",
]


def indent(code: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in code.split("\n"))


def render(source: Source, flow: tuple[str, str, list[str]], sink: Sink, label: str) -> str:
    name, helper, lines = flow
    body = [line.format(src=source.expression) for line in lines]
    code = sink.code.format(v="value")
    lines_in = (source.imports + sink.imports).splitlines(keepends=True)
    imports = sorted({line for line in lines_in if line.startswith(("import ", "from "))})
    setup = "".join(line for line in source.imports.splitlines(keepends=True) if line not in imports)
    text = f"# expect: {label}\n{''.join(imports)}{setup}{helper}\n\n{source.header}\n"
    text += indent("\n".join(body)) + "\n" + indent(code) + "\n"
    return text


def fits(sink: Sink, source: Source) -> bool:
    return sink.families == "any" or source.family in sink.families.split()


PAIRS = 6  # per category and split: 6 vulnerable cases, each beside its near-miss


def build() -> int:
    count = 0
    for split in ("train", "holdout"):
        folder = ROOT / split
        if folder.exists():
            shutil.rmtree(folder)
        for offset, (category, splits) in enumerate(C.items()):
            vulnerable, safe = splits[split]
            target = folder / category
            target.mkdir(parents=True)
            for pair in range(PAIRS):
                sink = vulnerable[pair % len(vulnerable)]
                source, flow = _pick(split, offset + pair, sink)
                vuln = render(source, flow, sink, f"vulnerable {category}")
                (target / f"{2 * pair + 1:02d}_vulnerable_{flow[0]}.py").write_text(vuln)
                how, near = _near_miss(category, safe, pair, source, flow, sink)
                (target / f"{2 * pair + 2:02d}_safe_{how}.py").write_text(near)
                count += 2
    return count


def _pick(split: str, turn: int, sink: Sink) -> tuple[Source, tuple[str, str, list[str]]]:
    """Sources and flows rotate at different strides, so every category meets several."""
    sources, flows = SOURCES[split], FLOWS[split]
    fitting = [source for source in sources if fits(sink, source)]
    return fitting[turn % len(fitting)], flows[(turn * 5 + turn // len(flows)) % len(flows)]


def _near_miss(
    category: str,
    safe: list[tuple[str, Sink]],
    pair: int,
    source: Source,
    flow: tuple[str, str, list[str]],
    sink: Sink,
) -> tuple[str, str]:
    """The near-miss beside a vulnerable case: a safe variant of the category (same source
    family), else the same sink with a constant value or in a dead branch."""
    label = f"safe {category}"
    fitting = [(how, s) for how, s in safe if fits(s, source)]
    data_flow = category not in ("cookie", "hash", "random")
    if fitting and (pair % 3 == 0 or not data_flow):
        how, near = fitting[(pair // 3 + pair) % len(fitting)]
        return how, render(source, flow, near, label)
    if not fitting:
        how, near = safe[pair % len(safe)]
        return how, render(source, flow, near, label)
    if pair % 3 == 1:
        constant = Sink(sink.families, sink.imports, 'value = "report.txt"\n' + sink.code)
        return "constant", render(source, flow, constant, label)
    guard = DEAD[pair % len(DEAD)]
    dead = Sink(sink.families, sink.imports, guard + "\n" + indent(sink.code) + "\nreturn None")
    return "dead-branch", render(source, flow, dead, label)


if __name__ == "__main__":
    print(f"{build()} cases written under {ROOT}")
