"""taint_rules is the taint engine's knowledge: its categories (CWE, OWASP), sources, sinks
and sanitizers, as data, so that adding a framework is adding a line, not a code path.

Names are fully qualified after the module's imports are resolved (``from flask import
request as r`` makes ``r.args`` read ``flask.request.args``); a method sink whose receiver
cannot be resolved (``cursor.execute``) is matched by method name alone, and the noisy
ones only in modules importing the library they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.ai_orchestrator.findings import Severity


@dataclass(frozen=True, slots=True)
class Category:
    """One vulnerability class: its rule id, CWE, OWASP Top 10 (2021) entry and advice."""

    rule: str
    cwe: str
    owasp: str
    severity: Severity
    title: str
    suggestion: str


_A01 = "A01:2021-Broken Access Control"
_A02 = "A02:2021-Cryptographic Failures"
_A03 = "A03:2021-Injection"
_A04 = "A04:2021-Insecure Design"
_A05 = "A05:2021-Security Misconfiguration"
_A08 = "A08:2021-Software and Data Integrity Failures"

# fmt: off
CATEGORIES: dict[str, Category] = {
    "command": Category(
        "taint:command-injection", "CWE-78", _A03, "critical", "OS command injection",
        "Pass an argument list without shell=True, or quote each value with shlex.quote.",
    ),
    "sql": Category(
        "taint:sql-injection", "CWE-89", _A03, "critical", "SQL injection",
        "Use a parameterized query: placeholders in the SQL, values as execute()'s arguments.",
    ),
    "deserialization": Category(
        "taint:unsafe-deserialization", "CWE-502", _A08, "critical",
        "deserialization of untrusted data",
        "Parse a data format (json, yaml.safe_load) instead of unpickling untrusted bytes.",
    ),
    "code": Category(
        "taint:code-injection", "CWE-95", _A03, "critical", "code injection (eval/exec)",
        "Never evaluate input as code; parse it (ast.literal_eval, json) or dispatch on it.",
    ),
    "xss": Category(
        "taint:xss", "CWE-79", _A03, "high", "cross-site scripting",
        "Render through an autoescaping template, or escape with markupsafe.escape/html.escape.",
    ),
    "path": Category(
        "taint:path-traversal", "CWE-22", _A01, "high", "path traversal",
        "Use secure_filename/send_from_directory, or resolve the path and check that it stays "
        "inside the base directory.",
    ),
    "redirect": Category(
        "taint:open-redirect", "CWE-601", _A01, "medium", "open redirect",
        "Redirect only to relative paths or hosts on an allow-list "
        "(url_has_allowed_host_and_scheme).",
    ),
    "ldap": Category(
        "taint:ldap-injection", "CWE-90", _A03, "high", "LDAP injection",
        "Escape values with escape_filter_chars (ldap3/python-ldap) before building a filter.",
    ),
    "xpath": Category(
        "taint:xpath-injection", "CWE-643", _A03, "high", "XPath injection",
        "Pass values as XPath variables (tree.xpath('//u[@n=$name]', name=value)).",
    ),
    "xxe": Category(
        "taint:xxe", "CWE-611", _A05, "high", "XML external entity expansion",
        "Parse untrusted XML with defusedxml, or an lxml XMLParser(resolve_entities=False).",
    ),
    "trust": Category(
        "taint:trust-boundary", "CWE-501", _A04, "medium", "trust boundary violation",
        "Validate the value (allow-list, type conversion) before storing it in the session.",
    ),
    "cookie": Category(
        "taint:insecure-cookie", "CWE-614", _A05, "medium", "cookie without the Secure flag",
        "Set secure=True (and httponly=True, samesite) on cookies.",
    ),
    "hash": Category(
        "taint:weak-hash", "CWE-328", _A02, "medium", "weak hash (MD5/SHA-1)",
        "Use SHA-256 or better; for passwords a KDF (hashlib.scrypt, argon2, bcrypt); pass "
        "usedforsecurity=False where the hash protects nothing.",
    ),
    "random": Category(
        "taint:weak-random", "CWE-330", _A02, "medium",
        "predictable random value used as a secret",
        "Use the secrets module (secrets.token_urlsafe) for tokens, passwords and keys.",
    ),
}
# fmt: on

# Attributes of a web request object that carry what the client sent.
REQUEST_ATTRIBUTES = frozenset(
    {
        # Flask / Werkzeug
        "args", "form", "values", "cookies", "headers", "json", "data", "files", "get_json",
        "get_data", "view_args", "stream", "query_string", "full_path", "url", "base_url",
        "environ", "authorization", "referrer", "user_agent",
        # Django
        "GET", "POST", "COOKIES", "META", "FILES", "body", "read", "readline",
        # Starlette / FastAPI
        "query_params", "path_params",
    }
)  # fmt: skip
# Names a request object goes by when it is a view's parameter (Django, Starlette).
REQUEST_NAMES = frozenset({"request", "req"})
REQUEST_OBJECTS = frozenset({"flask.request", "bottle.request", "quart.request"})
SOURCE_CALLS = frozenset({"input", "raw_input"})
SOURCE_NAMES = frozenset({"sys.argv"})
# Decorators (their last name) that make a function a web route whose parameters the
# client controls (Flask's URL parts, FastAPI's path/query parameters).
ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket"}
)
# Parameter annotations that validate what the framework hands in.
SAFE_ANNOTATIONS = frozenset(
    {"int", "float", "bool", "UUID", "uuid.UUID", "Request", "date", "datetime", "Decimal"}
)

# Calls whose result carries no attacker control, whatever went in.
CLEANSING_CALLS = frozenset(
    {
        "int", "float", "bool", "len", "abs", "round", "hash", "id", "isinstance", "type",
        "uuid.UUID", "decimal.Decimal", "datetime.date.fromisoformat", "ord",
        "hashlib.sha256", "hashlib.sha512", "hashlib.md5", "hashlib.sha1", "hmac.compare_digest",
        "flask.url_for", "django.urls.reverse", "os.path.exists", "os.path.isfile",
        "os.path.isdir", "re.match", "re.fullmatch", "re.search", "ast.literal_eval",
        "json.loads", "secrets.compare_digest", "bleach.linkify",
    }
)  # fmt: skip
# Calls that make their argument safe for some categories only.
SANITIZERS: dict[str, frozenset[str]] = {
    "shlex.quote": frozenset({"command"}),
    "pipes.quote": frozenset({"command"}),
    "html.escape": frozenset({"xss"}),
    "cgi.escape": frozenset({"xss"}),
    "markupsafe.escape": frozenset({"xss"}),
    "flask.escape": frozenset({"xss"}),
    "jinja2.escape": frozenset({"xss"}),
    "django.utils.html.escape": frozenset({"xss"}),
    "django.utils.html.strip_tags": frozenset({"xss"}),
    "django.utils.html.format_html": frozenset({"xss"}),  # escapes every argument
    "bleach.clean": frozenset({"xss"}),
    "flask.jsonify": frozenset({"xss"}),
    "xml.sax.saxutils.escape": frozenset({"xss"}),
    "werkzeug.utils.secure_filename": frozenset({"path"}),
    "werkzeug.secure_filename": frozenset({"path"}),
    "os.path.basename": frozenset({"path"}),
    "ldap3.utils.conv.escape_filter_chars": frozenset({"ldap"}),
    "ldap.filter.escape_filter_chars": frozenset({"ldap"}),
    "ldap.dn.escape_dn_chars": frozenset({"ldap"}),
    "ldap.filter.filter_format": frozenset({"ldap"}),
    "urllib.parse.quote": frozenset({"redirect", "path", "xss", "command"}),
    "urllib.parse.quote_plus": frozenset({"redirect", "path", "xss", "command"}),
}

# Function sinks: qualified name -> (category, argument positions, keyword names).
SINK_CALLS: dict[str, tuple[str, tuple[int, ...], tuple[str, ...]]] = {
    "os.system": ("command", (0,), ("command",)),
    "os.popen": ("command", (0,), ("cmd",)),
    "subprocess.getoutput": ("command", (0,), ("cmd",)),
    "subprocess.getstatusoutput": ("command", (0,), ("cmd",)),
    "commands.getoutput": ("command", (0,), ()),
    "asyncio.create_subprocess_shell": ("command", (0,), ("cmd",)),
    "eval": ("code", (0,), ()),
    "exec": ("code", (0,), ()),
    "builtins.eval": ("code", (0,), ()),
    "builtins.exec": ("code", (0,), ()),
    "pickle.loads": ("deserialization", (0,), ()),
    "pickle.load": ("deserialization", (0,), ()),
    "_pickle.loads": ("deserialization", (0,), ()),
    "cPickle.loads": ("deserialization", (0,), ()),
    "dill.loads": ("deserialization", (0,), ()),
    "marshal.loads": ("deserialization", (0,), ()),
    "jsonpickle.decode": ("deserialization", (0,), ()),
    "yaml.unsafe_load": ("deserialization", (0,), ("stream",)),
    "open": ("path", (0,), ("file",)),
    "io.open": ("path", (0,), ("file",)),
    "codecs.open": ("path", (0,), ("filename",)),
    "os.remove": ("path", (0,), ("path",)),
    "os.unlink": ("path", (0,), ("path",)),
    "os.rmdir": ("path", (0,), ("path",)),
    "os.listdir": ("path", (0,), ("path",)),
    "shutil.rmtree": ("path", (0,), ("path",)),
    "shutil.copyfile": ("path", (0, 1), ("src", "dst")),
    "shutil.copy": ("path", (0, 1), ("src", "dst")),
    "shutil.move": ("path", (0, 1), ("src", "dst")),
    "pathlib.Path": ("path", (0,), ()),
    "flask.send_file": ("path", (0,), ("path_or_file",)),
    "starlette.responses.FileResponse": ("path", (0,), ("path",)),
    "fastapi.responses.FileResponse": ("path", (0,), ("path",)),
    "flask.redirect": ("redirect", (0,), ("location",)),
    "werkzeug.utils.redirect": ("redirect", (0,), ("location",)),
    "django.shortcuts.redirect": ("redirect", (0,), ("to",)),
    "django.http.HttpResponseRedirect": ("redirect", (0,), ("redirect_to",)),
    "django.http.HttpResponsePermanentRedirect": ("redirect", (0,), ("redirect_to",)),
    "starlette.responses.RedirectResponse": ("redirect", (0,), ("url",)),
    "fastapi.responses.RedirectResponse": ("redirect", (0,), ("url",)),
    "flask.render_template_string": ("xss", (0,), ("source",)),
    "flask.make_response": ("xss", (0,), ()),
    "flask.Response": ("xss", (0,), ("response",)),
    "werkzeug.wrappers.Response": ("xss", (0,), ("response",)),
    "django.http.HttpResponse": ("xss", (0,), ("content",)),
    "django.utils.safestring.mark_safe": ("xss", (0,), ()),
    "markupsafe.Markup": ("xss", (0,), ()),
    "flask.Markup": ("xss", (0,), ()),
    "starlette.responses.HTMLResponse": ("xss", (0,), ("content",)),
    "fastapi.responses.HTMLResponse": ("xss", (0,), ("content",)),
    "jinja2.Template": ("xss", (0,), ()),
    "lxml.etree.XPath": ("xpath", (0,), ("path",)),
    "lxml.etree.ETXPath": ("xpath", (0,), ("path",)),
    "elementpath.select": ("xpath", (1,), ("path",)),
    "lxml.etree.fromstring": ("xxe", (0,), ("text",)),
    "lxml.etree.XML": ("xxe", (0,), ("text",)),
    "lxml.etree.parse": ("xxe", (0,), ("source",)),
    "xml.dom.pulldom.parseString": ("xxe", (0,), ()),
}
SUBPROCESS_CALLS = frozenset(
    {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
     "subprocess.Popen"}
)  # fmt: skip
EXEC_CALLS = ("os.exec", "os.spawn", "os.posix_spawn")
# Method sinks matched by name: name -> (category, positions, keywords, library the module
# must import for the match to count; "" = any module).
SINK_METHODS: dict[str, tuple[str, tuple[int, ...], tuple[str, ...], str]] = {
    "execute": ("sql", (0,), ("sql", "query", "operation", "statement"), ""),
    "executemany": ("sql", (0,), ("sql", "query", "operation"), ""),
    "executescript": ("sql", (0,), ("sql_script",), ""),
    "raw": ("sql", (0,), ("raw_query",), "django"),
    "extra": ("sql", (), ("where", "select", "tables"), "django"),
    "read_sql": ("sql", (0,), ("sql",), "pandas"),
    "read_sql_query": ("sql", (0,), ("sql",), "pandas"),
    "xpath": ("xpath", (0,), ("_path",), ""),
    "find": ("xpath", (0,), ("path",), "xml"),
    "findall": ("xpath", (0,), ("path",), "xml"),
    "iterfind": ("xpath", (0,), ("path",), "xml"),
    "findtext": ("xpath", (0,), ("path",), "xml"),
    "search": ("ldap", (1,), ("search_filter",), "ldap"),
    "search_s": ("ldap", (2,), ("filterstr",), "ldap"),
    "search_st": ("ldap", (2,), ("filterstr",), "ldap"),
    "search_ext": ("ldap", (2,), ("filterstr",), "ldap"),
    "search_ext_s": ("ldap", (2,), ("filterstr",), "ldap"),
    "send_file": ("path", (0,), ("path_or_file",), "flask"),
    "read_text": ("path", (), (), ""),
    "read_bytes": ("path", (), (), ""),
    "write_text": ("path", (), (), ""),
    "open_file": ("path", (0,), (), ""),
}
# Receiver-is-the-sink methods (pathlib): the tainted value is the receiver itself.
RECEIVER_SINKS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "unlink"})
# Module-name roots for SINK_METHODS' "library" condition.
LIBRARY_ROOTS = {
    "django": ("django",),
    "pandas": ("pandas",),
    "xml": ("lxml", "xml.etree", "defusedxml.ElementTree", "elementpath"),
    "ldap": ("ldap", "ldap3"),
    "flask": ("flask",),
    "html_returns": ("flask", "quart", "bottle"),
    # A ``request`` parameter is the client's only in modules of a web framework (elsewhere,
    # e.g. in an HTTP client library, it is the outgoing request).
    "web": (
        "flask", "django", "starlette", "fastapi", "werkzeug", "bottle", "pyramid", "tornado",
        "aiohttp", "quart", "sanic", "falcon", "rest_framework", "litestar",
    ),
}  # fmt: skip
WEAK_HASHES = frozenset(
    {"hashlib.md5", "hashlib.sha1", "Crypto.Hash.MD5.new", "Crypto.Hash.SHA.new",
     "Crypto.Hash.SHA1.new", "Cryptodome.Hash.MD5.new",
     "cryptography.hazmat.primitives.hashes.MD5", "cryptography.hazmat.primitives.hashes.SHA1"}
)  # fmt: skip
WEAK_HASH_NAMES = frozenset({"md5", "sha1", "sha-1", "md4", "md2"})
# random's functions that are predictable (random.SystemRandom is not).
RANDOM_MODULES = ("random.", "numpy.random.")
SECURE_RANDOM = frozenset({"random.SystemRandom", "random.seed", "random.shuffle"})
# A weak random value is a finding when it becomes one of these (variable, function, key).
SENSITIVE_WORDS = (
    "token", "passw", "secret", "nonce", "salt", "otp", "csrf", "session", "apikey",
    "api_key", "auth", "reset", "key", "pin", "verif", "cookie", "sid", "invite", "coupon",
    "voucher",
)  # fmt: skip
SESSION_OBJECTS = frozenset({"flask.session", "quart.session"})
# Calls that end the request (so the code after them in a branch is unreachable).
TERMINATING_CALLS = frozenset(
    {"flask.abort", "abort", "sys.exit", "exit", "werkzeug.exceptions.abort", "os._exit"}
)
# Validator call names: a condition calling one of these on a value vouches for it.
VALIDATOR_WORDS = (
    "valid", "allowed", "is_safe", "safe_url", "url_has_allowed_host_and_scheme", "match",
    "fullmatch", "isdigit", "isalnum", "isalpha", "isdecimal", "isnumeric", "isidentifier",
    "is_relative_to", "whitelist", "allowlist", "permitted", "check",
)  # fmt: skip
