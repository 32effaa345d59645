"""The tool's HTML pages (Jinja, autoescaped). Kept in code so they ship in every wheel."""

from __future__ import annotations

from jinja2 import DictLoader

_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}lmsbridge{% endblock %}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} .rule{font-family:monospace;color:#666} li{margin:.4rem 0}
button{font-size:1rem;padding:.4rem 1.2rem}
</style></head><body>{% block body %}{% endblock %}</body></html>"""

_ERROR = """{% extends "base.html" %}{% block title %}{{ heading }}{% endblock %}
{% block body %}<h1>{{ heading }}</h1>
<p id="reason">{{ reason }}</p>
<p class="rule">HTTP {{ status }} · rule <span id="rule">{{ rule }}</span></p>
{% if hint %}<p>{{ hint }}</p>{% endif %}{% endblock %}"""

_PROGRAM = """{% extends "base.html" %}{% block title %}Courses{% endblock %}
{% block body %}<h1>Your courses</h1><ul>
{% for name, url in courses %}<li>{% if url %}<a href="{{ url }}">{{ name }}</a>
{% else %}{{ name }}{% endif %}</li>{% else %}<li>No course is available yet.</li>{% endfor %}
</ul>{% endblock %}"""

# LTI Client Side postMessages (platform storage): keep state->nonce in the platform's frame
# when third-party cookies may be blocked, then continue to the authorization endpoint.
_LOGIN_STORAGE = """{% extends "base.html" %}{% block title %}Signing in…{% endblock %}
{% block body %}<p>Signing in…</p>
<script>
(function () {
  var target = {{ target|tojson }}, origin = {{ origin|tojson }}, next = {{ next|tojson }};
  var id = "put-" + Math.random().toString(36).slice(2), done = false;
  function go() { if (!done) { done = true; window.location.replace(next); } }
  var frame = target === "_parent" ? window.parent : window.parent.frames[target];
  window.addEventListener("message", function (e) {
    var d = e.data || {};
    if (e.origin === origin && d.subject === "lti.put_data.response" && d.message_id === id) go();
  });
  try {
    frame.postMessage({subject: "lti.put_data", message_id: id, key: {{ key|tojson }},
                       value: {{ value|tojson }}}, origin);
  } catch (err) { go(); }
  setTimeout(go, 2000);  // no platform storage answer: rely on the cookie
})();
</script>{% endblock %}"""

_LAUNCH_STORAGE = """{% extends "base.html" %}{% block title %}Signing in…{% endblock %}
{% block body %}<p>Signing in…</p>
<form id="relaunch" method="post" action="{{ action }}">
<input type="hidden" name="id_token" value="{{ id_token }}">
<input type="hidden" name="state" value="{{ state }}">
<input type="hidden" name="lti_storage_nonce" value="">
</form>
<script>
(function () {
  var target = {{ target|tojson }}, origin = {{ origin|tojson }};
  var id = "get-" + Math.random().toString(36).slice(2), form = document.getElementById("relaunch");
  var frame = target === "_parent" ? window.parent : window.parent.frames[target];
  window.addEventListener("message", function (e) {
    var d = e.data || {};
    if (e.origin !== origin || d.subject !== "lti.get_data.response" || d.message_id !== id) return;
    form.elements["lti_storage_nonce"].value = d.value || "";
    form.submit();
  });
  frame.postMessage({subject: "lti.get_data", message_id: id, key: {{ key|tojson }}}, origin);
})();
</script>{% endblock %}"""

_PICKER_PROGRAMS = """{% extends "base.html" %}{% block title %}Choose a program{% endblock %}
{% block body %}<h1>Choose a program</h1><ul id="programs">
{% for p in programs %}<li><a class="program" href="{{ url_for('picker.show', s=token,
 program=p.program_id) }}">{{ p.name or p.program_id }}</a></li>
{% else %}<li>No program is activated for your institution yet.</li>{% endfor %}
</ul>{% endblock %}"""

_PICKER_COURSES = """{% extends "base.html" %}{% block title %}Choose content{% endblock %}
{% block body %}<h1>{{ program_name }}</h1>
{% if item_mode %}<p>Choose a course to publish its graded items.</p><ul id="courses">
{% for c in courses %}<li><a class="course" href="{{ url_for('picker.show', s=token,
 program=program_id, course=c.id) }}">{{ c.name }}</a></li>{% endfor %}</ul>
{% else %}<form method="post" action="{{ url_for('picker.submit') }}">
<input type="hidden" name="s" value="{{ token }}"><input type="hidden" name="program"
 value="{{ program_id }}"><ul id="courses">
{% for c in courses %}<li><label><input type="{{ 'checkbox' if multiple else 'radio' }}"
 name="course" value="{{ c.id }}"> {{ c.name }}</label></li>{% endfor %}</ul>
<button type="submit" id="publish">Publish</button></form>{% endif %}{% endblock %}"""

_PICKER_ITEMS = """{% extends "base.html" %}{% block title %}Choose items{% endblock %}
{% block body %}<h1>{{ course_name }}</h1>
<form method="post" action="{{ url_for('picker.submit') }}">
<input type="hidden" name="s" value="{{ token }}"><input type="hidden" name="program"
 value="{{ program_id }}"><input type="hidden" name="course" value="{{ course_id }}">
<ul id="items">{% for i in items %}<li><label><input type="{{ 'checkbox' if multiple
 else 'radio' }}" name="item" value="{{ i.id }}"> {{ i.name }}</label></li>
{% else %}<li>This course has no graded items.</li>{% endfor %}</ul>
<button type="submit" id="publish">Publish</button></form>{% endblock %}"""

_PICKER_RETURN = """{% extends "base.html" %}{% block title %}Publishing…{% endblock %}
{% block body %}<p>Sending {{ count }} link(s) to your course…</p>
<form id="dl-return" method="post" action="{{ return_url }}">
<input type="hidden" name="JWT" value="{{ jwt }}">
<noscript><button type="submit">Continue</button></noscript></form>
<script>document.getElementById("dl-return").submit();</script>{% endblock %}"""

LOADER = DictLoader({
    "base.html": _BASE,
    "error.html": _ERROR,
    "program.html": _PROGRAM,
    "login_storage.html": _LOGIN_STORAGE,
    "launch_storage.html": _LAUNCH_STORAGE,
    "picker_programs.html": _PICKER_PROGRAMS,
    "picker_courses.html": _PICKER_COURSES,
    "picker_items.html": _PICKER_ITEMS,
    "picker_return.html": _PICKER_RETURN,
})
