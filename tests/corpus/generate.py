#!/usr/bin/env python3
"""Writes tests/corpus/requests.jsonl: malformed xAPI requests, each derived from a MUST rule of
the specification (xAPI 1.0.3 / IEEE 9274.1.1), each expected to get a 4xx with a JSON reason
and to store nothing. Deterministic: run it again after editing and commit both files.

    python3 tests/corpus/generate.py

Each line: {"rule", "method", "path", "headers", "body", "expect"} (and "repeat": N when the
body is that statement N times in an array), where `expect` is an exact
status or "4xx", `headers` may set "auth" to "none" or "wrong" (default: the test's admin), and
"X-Experience-API-Version" is the version of the run unless the case sets it (null: leave it
out). tests/tests/blackbox/corpus.rs runs the corpus once at 2.0.0 and once at 1.0.3; a case
whose request is malformed in one version only carries "versions": ["1.0.3"] or ["2.0.0"] and
runs only then, every other case runs in both.
"""
import copy
import json
import os

ACTIVITY = "http://example.org/corpus/activity"
AGENT = {"objectType": "Agent", "mbox": "mailto:corpus@example.org"}


def base():
    return {
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "actor": copy.deepcopy(AGENT),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": ACTIVITY,
                   "definition": {"name": {"en-US": "Corpus"}, "type": "http://adlnet.gov/expapi/activities/lesson"}},
        "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": True,
                   "completion": True, "duration": "PT1M"},
        "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7", "language": "en-US",
                    "contextActivities": {"parent": [{"id": "http://example.org/corpus/parent"}]}},
        "timestamp": "2024-05-01T10:00:00.000Z",
    }


MISSING = object()


def mutate(path, value):
    s = base()
    *parents, last = path.split(".")
    node = s
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is MISSING:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return s


cases = []


def add(rule, method, path, body=None, headers=None, expect="4xx", versions=None):
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    case = {"rule": rule, "method": method, "path": path,
            "headers": headers or {}, "body": body, "expect": expect}
    if versions:
        case["versions"] = versions
    cases.append(case)


def statement(rule, path, value, expect=400, versions=None):
    add(f"{rule} ({path} = {'<missing>' if value is MISSING else json.dumps(value)})",
        "POST", "/xAPI/statements", mutate(path, value), {"Content-Type": "application/json"}, expect,
        versions)


def renamed(rule, path, new_key):
    """A statement whose key at `path` is spelt `new_key` (the same value under another name)."""
    s = base()
    *parents, last = path.split(".")
    node = s
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[new_key] = node.pop(last)
    add(f"{rule} ({path} spelt {new_key})", "POST", "/xAPI/statements", s,
        {"Content-Type": "application/json"}, 400)


JSON = {"Content-Type": "application/json"}

# --- Not JSON, or not statements -----------------------------------------------------------
for text in ["", "{", "[", "}", "nul", "{\"actor\":}", "{\"a\":1,}", "[1,2", "{'id':1}",
             "NaN", "{\"id\": NaN}", "\u0000", "{\"id\":\"x\"} trailing", "[{}]]", "{\"a\":\"\\x\"}"]:
    add(f"the body is not JSON: {text!r}", "POST", "/xAPI/statements", text, JSON, 400)
for value in [1, "statement", True, None, [1], [[]], [None], ["x"], {}, [{}], 1.5]:
    add(f"the body is neither a statement nor an array of statements: {json.dumps(value)}",
        "POST", "/xAPI/statements", value, JSON, 400)

# --- id --------------------------------------------------------------------------------------
for v in ["not-a-uuid", 123, "", "6690e6c9-3ef0-4ed3-8b37-7f3964730beg",
          "6690e6c93ef04ed38b377f3964730bee0", None, ["6690e6c9-3ef0-4ed3-8b37-7f3964730bee"]]:
    statement("id MUST be a UUID", "id", v)

# --- actor -----------------------------------------------------------------------------------
statement("a statement MUST have an actor", "actor", MISSING)
for v in [None, {}, "someone", 5, [AGENT],
          {"mbox": "corpus@example.org"}, {"mbox": "mailto:"}, {"mbox": "mailto:no-at-sign"},
          {"mbox": 42}, {"mbox_sha1sum": "xyz"}, {"mbox_sha1sum": "ZZ" * 20},
          {"mbox": "mailto:a@example.org", "mbox_sha1sum": "a" * 40},
          {"mbox": "mailto:a@example.org", "openid": "http://example.org/me"},
          {"openid": "not a uri"}, {"account": {"homePage": "not an iri", "name": "x"}},
          {"account": {"name": "x"}}, {"account": {"homePage": "http://example.org"}},
          {"account": "x"}, {"account": {"homePage": "http://example.org", "name": 5}},
          {"objectType": "Person", "mbox": "mailto:a@example.org"},
          {"objectType": "Activity", "id": ACTIVITY},
          {"objectType": "Agent"}, {"objectType": "Agent", "name": "No IFI"},
          {"objectType": "agent", "mbox": "mailto:a@example.org"},
          {"objectType": "Agent", "mbox": "mailto:a@example.org", "name": 7},
          {"objectType": "Agent", "mbox": "mailto:a@example.org", "unknown": 1},
          {"objectType": "Group"}, {"objectType": "Group", "member": []},
          {"objectType": "Group", "member": "x"},
          {"objectType": "Group", "member": [{"objectType": "Group", "member": [AGENT]}]},
          {"objectType": "Group", "member": [{"name": "no ifi"}]},
          {"objectType": "Group", "mbox": "mailto:g@example.org", "member": [{"mbox": "bad"}]}]:
    statement("the actor MUST be an Agent or Group with exactly one valid IFI", "actor", v)

# --- verb ------------------------------------------------------------------------------------
statement("a statement MUST have a verb", "verb", MISSING)
for v in [None, {}, "completed", {"id": "completed"}, {"id": 5}, {"id": ""},
          {"id": "http://example.org/v", "display": "completed"},
          {"id": "http://example.org/v", "display": {"en-US": 5}},
          {"id": "http://example.org/v", "display": {"not a language tag!": "x"}},
          {"id": "http://example.org/v", "display": ["x"]},
          {"id": "http://example.org/v", "unknown": True},
          {"display": {"en-US": "completed"}}]:
    statement("the verb MUST be an object with an IRI id and a language map display", "verb", v)
statement("voiding: a voided verb's object MUST be a StatementRef", "verb",
          {"id": "http://adlnet.gov/expapi/verbs/voided"})

# --- object ----------------------------------------------------------------------------------
statement("a statement MUST have an object", "object", MISSING)
for v in [None, {}, "activity", 5, {"objectType": "Activity"}, {"id": "not an iri"},
          {"objectType": "Activity", "id": 5}, {"objectType": "Unknown", "id": ACTIVITY},
          {"objectType": "activity", "id": ACTIVITY},
          {"id": ACTIVITY, "definition": "x"}, {"id": ACTIVITY, "definition": {"name": "x"}},
          {"id": ACTIVITY, "definition": {"description": ["x"]}},
          {"id": ACTIVITY, "definition": {"type": "not an iri"}},
          {"id": ACTIVITY, "definition": {"moreInfo": "not an iri"}},
          {"id": ACTIVITY, "definition": {"interactionType": "essay"}},
          {"id": ACTIVITY, "definition": {"interactionType": "choice", "correctResponsesPattern": "a"}},
          {"id": ACTIVITY, "definition": {"interactionType": "choice", "choices": "a"}},
          {"id": ACTIVITY, "definition": {"interactionType": "choice", "choices": [{"description": {"en-US": "no id"}}]}},
          {"id": ACTIVITY, "definition": {"choices": [{"id": "a", "description": {"en-US": "A"}}]}},
          {"id": ACTIVITY, "definition": {"extensions": {"not an iri": 1}}},
          {"id": ACTIVITY, "definition": {"extensions": [1]}},
          {"id": ACTIVITY, "definition": {"unknown": 1}},
          {"id": ACTIVITY, "unknown": 1},
          {"objectType": "StatementRef"}, {"objectType": "StatementRef", "id": "not-a-uuid"},
          {"objectType": "StatementRef", "id": 5},
          {"objectType": "Agent"}, {"objectType": "Agent", "mbox": "bad"},
          {"objectType": "Group", "member": "x"},
          {"objectType": "SubStatement"},
          {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://example.org/v"}},
          {"objectType": "SubStatement", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee", "actor": AGENT,
           "verb": {"id": "http://example.org/v"}, "object": {"id": ACTIVITY}},
          {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://example.org/v"},
           "object": {"id": ACTIVITY}, "stored": "2024-05-01T10:00:00Z"},
          {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://example.org/v"},
           "object": {"id": ACTIVITY}, "authority": AGENT},
          {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://example.org/v"},
           "object": {"id": ACTIVITY}, "version": "2.0.0"},
          {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://example.org/v"},
           "object": {"objectType": "SubStatement", "actor": AGENT,
                      "verb": {"id": "http://example.org/v"}, "object": {"id": ACTIVITY}}},
          {"objectType": "SubStatement", "actor": {"mbox": "bad"}, "verb": {"id": "http://example.org/v"},
           "object": {"id": ACTIVITY}}]:
    statement("the object MUST be a valid Activity, Agent, Group, StatementRef or SubStatement", "object", v)

# --- result ----------------------------------------------------------------------------------
for path, v in [("result", "x"), ("result", []), ("result.score", 5), ("result.score.scaled", 2),
                ("result.score.scaled", -1.5), ("result.score.scaled", "0.5"),
                ("result.score.raw", 11), ("result.score.raw", -1), ("result.score.min", 20),
                ("result.score.max", -5), ("result.score.raw", "5"), ("result.score.unknown", 1),
                ("result.success", "yes"), ("result.success", 1), ("result.completion", "true"),
                ("result.completion", 0), ("result.duration", "1 minute"), ("result.duration", "PT1X"),
                ("result.duration", "P"), ("result.duration", "PT"), ("result.duration", 60),
                ("result.duration", "PT-1M"), ("result.response", 5), ("result.response", ["a"]),
                ("result.extensions", {"not an iri": 1}), ("result.extensions", [1]),
                ("result.extensions", "x"), ("result.unknown", 1)]:
    statement("result MUST follow the Result object's types and ranges", path, v)

# --- context ---------------------------------------------------------------------------------
for path, v in [("context", "x"), ("context", []), ("context.registration", "not-a-uuid"),
                ("context.registration", 5), ("context.instructor", {"mbox": "bad"}),
                ("context.instructor", "teacher"), ("context.team", AGENT),
                ("context.team", {"objectType": "Group", "member": "x"}),
                ("context.contextActivities", "x"), ("context.contextActivities", []),
                ("context.contextActivities.parent", "http://example.org/p"),
                ("context.contextActivities.parent", [{"id": "not an iri"}]),
                ("context.contextActivities.parent", [{"objectType": "Agent", "mbox": "mailto:a@example.org"}]),
                ("context.contextActivities.grouping", [5]),
                ("context.contextActivities.unknown", [{"id": ACTIVITY}]),
                ("context.revision", 5), ("context.platform", ["x"]),
                ("context.language", "not a language tag!"), ("context.language", 5),
                ("context.statement", {"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}),
                ("context.statement", {"objectType": "StatementRef", "id": "bad"}),
                ("context.extensions", {"not an iri": 1}), ("context.extensions", "x"),
                ("context.unknown", 1)]:
    statement("context MUST follow the Context object's types", path, v)
s = mutate("object", dict(AGENT))
s["context"]["revision"] = "1"
add("context.revision MUST NOT be used when the object is not an Activity", "POST",
    "/xAPI/statements", s, JSON, 400)
s = mutate("object", dict(AGENT))
s["context"]["platform"] = "LMS"
add("context.platform MUST NOT be used when the object is not an Activity", "POST",
    "/xAPI/statements", s, JSON, 400)

# --- timestamp, stored, authority, version, attachments ------------------------------------------
for v in ["yesterday", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01 10:00:00Z",
          "2024-05-01T25:00:00Z", "2024-05-01T10:00:00+25:00", 1714557600, "",
          "2024-05-01T10:00:00.000-00:00"]:
    statement("timestamp MUST be an ISO 8601 date-time with a time zone", "timestamp", v)
for v in ["yesterday", 5]:
    statement("stored, when given, MUST be an ISO 8601 date-time", "stored", v)
for v in [{"mbox": "bad"}, "admin", {"objectType": "Group", "member": [AGENT]},
          {"objectType": "Group", "member": [AGENT, AGENT, AGENT]}]:
    statement("authority MUST be an Agent or an OAuth Group of two agents", "authority", v)
for v in ["3.0.0", "0.9", "1.0.x", 1, "2.1.0", "2.0.0.1"]:
    statement("version MUST be a supported 1.0.x / 2.0.x version", "version", v)
att = {"usageType": "http://example.org/u", "display": {"en-US": "A"}, "contentType": "text/plain",
       "length": 3, "sha2": "a" * 64, "fileUrl": "http://example.org/a.txt"}
for key in ["usageType", "display", "contentType", "length", "sha2"]:
    a = dict(att)
    del a[key]
    statement(f"an attachment MUST have {key}", "attachments", [a])
for key, v in [("usageType", "not an iri"), ("length", "3"), ("length", -1), ("sha2", 5),
               ("display", "A"), ("fileUrl", "not an iri"), ("contentType", 5)]:
    a = dict(att)
    a[key] = v
    statement(f"attachment {key} MUST have its type", "attachments", [a])
statement("attachments MUST be an array", "attachments", att)
statement("a statement MUST NOT carry unknown properties", "unknown", 1)
for tag in ["en_US", "123", "", "e n", "toolongsubtag-x-"]:
    for path in ["verb.display", "object.definition.name", "object.definition.description"]:
        statement("language map keys MUST be RFC 5646 language tags", path, {tag: "text"})
for rest in [5, None, "x", {}]:
    add(f"every element of a batch MUST be a valid statement: [statement, {json.dumps(rest)}]",
        "POST", "/xAPI/statements", [base() | {"id": "0d3b2a43-5d44-4b8a-9d59-5f2b1c2b7a10"}, rest], JSON, 400)
add("ids in one batch MUST be unique", "POST", "/xAPI/statements", [base(), base()], JSON, 400)

# --- null values (XAPI-00001) ------------------------------------------------------------------
# "The LRS MUST reject Statements with any null values (except inside extensions)."
for path in ["actor.name", "actor.mbox", "verb.id", "verb.display", "verb.display.en-US",
             "object.id", "object.definition", "object.definition.name", "object.definition.type",
             "result", "result.score", "result.score.max", "result.success", "result.duration",
             "context", "context.registration", "context.language", "context.contextActivities",
             "context.contextActivities.parent", "timestamp", "id"]:
    statement("a statement MUST NOT hold null values outside extensions", path, None)
sub = {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://example.org/v"},
       "object": {"id": ACTIVITY}}
for key in ["result", "context", "timestamp"]:
    statement("a statement MUST NOT hold null values outside extensions", "object", sub | {key: None})

# --- key case (XAPI-00008) ----------------------------------------------------------------------
# "The LRS MUST reject Statements where the case of a key does not match the case specified."
for path, spelt in [("id", "ID"), ("actor", "Actor"), ("verb", "Verb"), ("object", "Object"),
                    ("result", "Result"), ("context", "Context"), ("timestamp", "Timestamp"),
                    ("actor.mbox", "MBox"), ("actor.objectType", "objecttype"),
                    ("verb.display", "Display"), ("object.objectType", "ObjectType"),
                    ("object.definition", "Definition"), ("object.definition.name", "Name"),
                    ("result.score", "Score"), ("result.score.max", "Max"),
                    ("result.success", "Success"), ("context.registration", "Registration"),
                    ("context.contextActivities", "contextactivities"),
                    ("context.contextActivities.parent", "Parent")]:
    renamed("keys MUST have the case the spec gives them", path, spelt)

# --- enumerated values' case (XAPI-00009) ---------------------------------------------------------
# "The LRS MUST reject Statements where the case of a value restricted to enumerated values does
# not match an enumerated value given in this specification exactly."
ENUM_CASE = "enumerated values MUST have the case the spec gives them"
for v in ["True-false", "true-faLse", "choiCe", "Fill-in", "long-fiLl-in", "MATCHING",
          "perfOrmance", "Sequencing", "liKert", "nUmeric", "Other"]:
    statement(ENUM_CASE, "object.definition.interactionType", v)
for path, v in [("actor.objectType", "AGENT"), ("object.objectType", "ACTIVITY"),
                ("context.contextActivities.parent.0.objectType", "activity")]:
    statement(ENUM_CASE, path, v)
for v in [{"objectType": "group", "member": [AGENT]},
          {"objectType": "statementref", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
          {"objectType": "Statementref", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
          sub | {"objectType": "substatement"}, sub | {"objectType": "subStatement"}]:
    statement(ENUM_CASE, "object", v)
statement(ENUM_CASE, "context.team", {"objectType": "GROUP", "member": [AGENT]})
statement(ENUM_CASE, "context.statement",
          {"objectType": "statementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"})

# --- member belongs to Groups (XAPI-00035) ------------------------------------------------------
# An Agent has objectType, name and one IFI; "member" is a Group's (Data 2.4.2.1, 2.4.2.2), and
# "An Anonymous Group MUST include a "member" property listing constituent Agents."
with_member = [AGENT | {"member": [AGENT]}, {"mbox": "mailto:a@example.org", "member": [AGENT]}]
for path in ["actor", "context.instructor", "authority"]:
    for v in with_member:
        statement("only a Group MAY have member: an Agent with member is refused", path, v)
statement("only a Group MAY have member: an Agent with member is refused", "object", with_member[0])
for path in ["actor", "object", "context.instructor", "context.team", "authority"]:
    statement("an anonymous Group MUST have member", path, {"objectType": "Group", "name": "nobody"})
statement("an anonymous Group MUST have member", "object",
          sub | {"actor": {"objectType": "Group", "name": "nobody"}})

# --- interaction components (XAPI-00051..00054, 00062, 00063) ------------------------------------
# choices, scale, source, target and steps are each an "Array of interaction components"; a
# component is {"id": String (required), "description": Language Map (optional)}.
for itype, key in [("choice", "choices"), ("sequencing", "choices"), ("likert", "scale"),
                   ("matching", "source"), ("matching", "target"), ("performance", "steps")]:
    def component_list(rule, value):
        statement(rule, "object.definition", {"interactionType": itype, key: value})
    for v in ["a", {"id": "a"}, 5]:
        component_list(f"an interaction component list ({key}) MUST be an array", v)
    for v in [["a", 5], [{"id": "a"}, "b"], [[{"id": "a"}]], [None],
              [{"description": {"en-US": "no id"}}], [{"id": 5}], [{"id": ["a"]}],
              [{"id": "a"}, {"id": "a"}], [{"id": "a", "label": "A"}]]:
        component_list(f"each interaction component ({key}) MUST be an object with a distinct string id", v)
    for v in ["x", ["x"], {"bad tag!": "x"}, {"en-US": 5}]:
        component_list(f"an interaction component's description ({key}) MUST be a language map",
                       [{"id": "a", "description": v}])

# --- score types (XAPI-00080) --------------------------------------------------------------------
# scaled, raw, min and max are decimal numbers; strings holding numbers are not.
for key in ["scaled", "raw", "min", "max"]:
    for v in ["1", "one hundred", {"value": 1}, True, [1]]:
        statement("score scaled, raw, min and max MUST be numbers", f"result.score.{key}", v)
statement("score scaled, raw, min and max MUST be numbers", "object",
          sub | {"result": {"score": {"max": "100"}}})

# --- one version only ----------------------------------------------------------------------------
# 1.0.3 Data 2.4.10.s3.b2: "An LRS MUST reject all Statements with a version specified that does
# not start with 1.0." (2.0 accepts 2.0.x as well).
statement("at 1.0.3 a statement's version MUST start with 1.0.", "version", "2.0.0",
          versions=["1.0.3"])
# contextAgents and contextGroups are 2.0 properties: at 1.0.3 even valid ones are unknown keys.
statement("at 1.0.3 context has no contextAgents", "context.contextAgents",
          [{"objectType": "contextAgent", "agent": AGENT}], versions=["1.0.3"])
statement("at 1.0.3 context has no contextGroups", "context.contextGroups",
          [{"objectType": "contextGroup", "group": {"objectType": "Group", "member": [AGENT]}}],
          versions=["1.0.3"])
for path, v in [("context.contextAgents", [{"objectType": "Agent", "agent": AGENT}]),
                ("context.contextAgents", [{"objectType": "contextAgent", "agent": AGENT,
                                            "relevantTypes": []}]),
                ("context.contextAgents", {"objectType": "contextAgent", "agent": AGENT}),
                ("context.contextGroups", [{"objectType": "contextGroup", "group": AGENT}])]:
    statement("at 2.0.0 contextAgents and contextGroups MUST follow their rules", path, v,
              versions=["2.0.0"])

# --- headers and authentication ----------------------------------------------------------------
for v in [None, "0.9.5", "2.1.0", "3.0", "abc", ""]:
    add(f"X-Experience-API-Version MUST be present and supported: {v!r}", "GET", "/xAPI/statements",
        None, {"X-Experience-API-Version": v}, 400)
add("requests MUST be authenticated", "GET", "/xAPI/statements", None, {"auth": "none"}, 401)
add("wrong credentials are refused", "POST", "/xAPI/statements", base(),
    {"auth": "wrong", "Content-Type": "application/json"}, 401)
add("a malformed Authorization header is refused", "GET", "/xAPI/statements", None,
    {"auth": "none", "Authorization": "Basic !!!not-base64"}, 401)
add("an unknown authentication scheme is refused", "GET", "/xAPI/statements", None,
    {"auth": "none", "Authorization": "Token abc"}, 401)
add("a form-encoded POST (1.0.3 alternate syntax) MUST name a method", "POST", "/xAPI/statements",
    "content=x", {"Content-Type": "application/x-www-form-urlencoded"}, 400)
cases.append({"rule": "a body over the size limit (max_body_bytes) is refused", "method": "POST",
              "path": "/xAPI/statements", "headers": JSON, "body": json.dumps(base()),
              "repeat": 2000, "expect": 413})

# --- statement query parameters -------------------------------------------------------------------
q = "/xAPI/statements?"
for param in ["limit=-1", "limit=abc", "limit=1.5", "since=yesterday", "until=2024-13-01T00:00:00Z",
              "agent=notjson", "agent=%7B%7D", "agent=%7B%22mbox%22%3A%22bad%22%7D", "verb=not%20an%20iri",
              "activity=not%20an%20iri", "registration=not-a-uuid", "format=pretty", "ascending=maybe",
              "attachments=sometimes", "related_agents=2", "related_activities=x",
              "statementId=not-a-uuid", "voidedStatementId=nope",
              "statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee&voidedStatementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
              "statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.org%22%7D",
              "statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee&limit=5",
              "unknownParameter=1", "more=not-a-cursor", "since=2024-05-01T10:00:00",
              "limit=", "agent=%5B%5D", "since=2024-05-01", "registration=", "verb=", "activity=5"]:
    add(f"statement query parameters MUST be valid: {param}", "GET", q + param, None, None, 400)

# --- PUT / methods ----------------------------------------------------------------------------------
add("PUT MUST name statementId", "PUT", "/xAPI/statements", base(), JSON, 400)
add("PUT statementId MUST be a UUID", "PUT", "/xAPI/statements?statementId=nope", base(), JSON, 400)
add("PUT takes one statement, not an array", "PUT",
    "/xAPI/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee", [base()], JSON, 400)
s = base()
add("PUT statementId MUST match the statement's id", "PUT",
    "/xAPI/statements?statementId=11111111-2222-4333-8444-555555555555", s, JSON, "4xx")
for m in ["DELETE", "PATCH"]:
    add(f"{m} is not a statements method", m, "/xAPI/statements", None, None, 405)
add("an unknown resource is not found", "GET", "/xAPI/nothing-here", None, None, 404)

# --- documents ---------------------------------------------------------------------------------------
agent = "agent=%7B%22mbox%22%3A%22mailto%3Acorpus%40example.org%22%7D"
act = "activityId=http%3A%2F%2Fexample.org%2Fcorpus%2Factivity"
for path in [f"/xAPI/activities/state?{agent}&stateId=s",
             f"/xAPI/activities/state?{act}&stateId=s",
             f"/xAPI/activities/state?{act}&{agent}",
             f"/xAPI/activities/state?activityId=not%20an%20iri&{agent}&stateId=s",
             f"/xAPI/activities/state?{act}&agent=bad&stateId=s",
             f"/xAPI/activities/state?{act}&agent=%7B%7D&stateId=s",
             f"/xAPI/activities/state?{act}&{agent}&stateId=s&registration=nope",
             f"/xAPI/activities/profile?profileId=p",
             f"/xAPI/activities/profile?{act}",
             f"/xAPI/agents/profile?profileId=p",
             f"/xAPI/agents/profile?{agent}",
             f"/xAPI/agents/profile?agent=bad&profileId=p"]:
    add(f"document PUT MUST name its document validly: {path}", "PUT", path, {"a": 1}, JSON, 400)
add("a JSON merge POST needs a JSON body", "POST",
    f"/xAPI/activities/state?{act}&{agent}&stateId=s", "not json", JSON, 400)
add("a JSON merge POST needs a JSON object", "POST",
    f"/xAPI/activities/state?{act}&{agent}&stateId=s", [1, 2], JSON, 400)
add("state GET with since MUST be a timestamp", "GET",
    f"/xAPI/activities/state?{act}&{agent}&since=yesterday", None, None, 400)
add("GET activities needs activityId", "GET", "/xAPI/activities", None, None, 400)
add("GET activities needs an IRI", "GET", "/xAPI/activities?activityId=not%20an%20iri", None, None, 400)
add("GET agents needs an agent", "GET", "/xAPI/agents", None, None, 400)
add("GET agents needs a valid agent", "GET", "/xAPI/agents?agent=%7B%22mbox%22%3A5%7D", None, None, 400)
add("DELETE state needs an agent", "DELETE", f"/xAPI/activities/state?{act}", None, None, 400)

# --- multipart/mixed --------------------------------------------------------------------------------
sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"  # "hello"
def with_attachment(sha2=sha, length=5):
    s = base()
    s["attachments"] = [{"usageType": "http://example.org/u", "display": {"en-US": "A"},
                         "contentType": "text/plain", "length": length, "sha2": sha2}]
    return s
def part(headers, body):
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n" + body
def multipart(parts, boundary="xapi-corpus"):
    return "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
MP = {"Content-Type": "multipart/mixed; boundary=xapi-corpus"}
stmt_part = lambda s: part({"Content-Type": "application/json"}, json.dumps(s))
att_part = lambda body, sha2=sha: part({"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary",
                                         "X-Experience-API-Hash": sha2}, body)
add("multipart: an attachment declared without its part is refused", "POST", "/xAPI/statements",
    multipart([stmt_part(with_attachment())]), MP, 400)
add("multipart: a part whose hash matches no attachment is refused", "POST", "/xAPI/statements",
    multipart([stmt_part(base()), att_part("hello")]), MP, 400)
add("multipart: content that does not match its hash is refused", "POST", "/xAPI/statements",
    multipart([stmt_part(with_attachment()), att_part("HELLO")]), MP, 400)
add("multipart: a part without X-Experience-API-Hash is refused", "POST", "/xAPI/statements",
    multipart([stmt_part(with_attachment()), part({"Content-Type": "text/plain"}, "hello")]), MP, 400)
add("multipart: the first part MUST be the statements (JSON)", "POST", "/xAPI/statements",
    multipart([att_part("hello"), stmt_part(with_attachment())]), MP, 400)
add("multipart: the statement part MUST be JSON", "POST", "/xAPI/statements",
    multipart([part({"Content-Type": "application/json"}, "{not json"), att_part("hello")]), MP, 400)
add("multipart: a body without the closing boundary is refused", "POST", "/xAPI/statements",
    f"--xapi-corpus\r\n{stmt_part(with_attachment())}\r\n--xapi-corpus\r\n{att_part('hello')}", MP, 400)
add("multipart: a Content-Type without a boundary is refused", "POST", "/xAPI/statements",
    multipart([stmt_part(with_attachment()), att_part("hello")]), {"Content-Type": "multipart/mixed"}, 400)
add("multipart: a different boundary than announced is refused", "POST", "/xAPI/statements",
    multipart([stmt_part(with_attachment()), att_part("hello")], "other"), MP, 400)
add("multipart: an empty body is refused", "POST", "/xAPI/statements", "", MP, 400)

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "requests.jsonl"), "w") as f:
    for c in cases:
        f.write(json.dumps(c, ensure_ascii=False) + "\n")
print(f"{len(cases)} requests written to tests/corpus/requests.jsonl")
