# expect: vulnerable path
import flask
import shutil

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    shutil.copyfile("/srv/in/" + value, "/srv/out/copy")
