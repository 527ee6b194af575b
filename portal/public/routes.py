"""Directory pages: home, categories, services, organisations."""

from flask import render_template

from portal.public import bp


@bp.get("/")
def home():
    return render_template("public/home.html")
