# expect: vulnerable redirect
import flask

web = flask.Flask(__name__)


class Holder:
    def unwrap(self, item):
        return item


@web.route("/pref")
def show_pref():
    value = Holder().unwrap(flask.request.cookies.get("pref"))
    target = "{}".format(value)
    return flask.redirect(target, code=302)
