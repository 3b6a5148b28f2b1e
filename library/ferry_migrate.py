#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Ferry contributors
# MIT License (see package.json)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ferry_migrate
short_description: Live-migrate a running runc container between two hosts with Ferry
version_added: "0.1.0"
description:
  - Runs C(ferry migrate) on the host the task runs on, which must be the controller where Ferry is
    installed (usually C(localhost)), and returns Ferry's report.
  - Every decision (preflight checks, the method, rollback, the inventory's hooks) is Ferry's own.
    The module checks the names with Ferry's rule, passes them as an argument vector (never through
    a shell), and reads the JSON Ferry prints (C(--format summary+json)).
  - In check mode it runs C(ferry migrate --dry-run), which changes nothing and reports what would
    happen (the provision playbook in check mode, Terraform's plan, both hosts probed, the method
    Ferry would choose, the hooks that would run).
  - The task fails when the migration is refused, fails, or rolls back; the container then runs
    where Ferry's report (or error) says.
options:
  container:
    description:
      - The container to move, as Ferry knows it (C(ferry ps)).
      - 1-31 characters, lowercase letters, digits and C(-), starting with a letter.
    type: str
    required: true
  source:
    description:
      - The host the container runs on now, as named in Ferry's inventory (C(ferry hosts)).
    type: str
    required: true
  target:
    description:
      - The host to move it to.
    type: str
    required: true
  method:
    description:
      - The migration method (C(auto), C(normal), C(page-server), C(precopy), C(pc-ps), C(pc-ps-rsync),
        C(lazy), C(pc-lazy)); C(auto) lets Ferry pick the fastest method both hosts support.
    type: str
    default: auto
  ferry_cli:
    description:
      - The Ferry command to run, without a shell, for example C(/opt/ferry/bin/ferry.js) or C(ferry)
        found on the PATH.
    type: str
    default: ferry
attributes:
  check_mode:
    description: Check mode runs Ferry's dry run, which changes nothing.
    support: full
notes:
  - Ferry reads its own settings (C(FERRY_INVENTORY), C(FERRY_HOSTS_FILE), ...) from the environment;
    give them with the task's C(environment) keyword when the controller's defaults are not right.
  - The hosts being migrated are reached by Ferry with its own SSH key, not by Ansible.
requirements:
  - Ferry and Node.js 20 on the host the task runs on.
author:
  - Ferry contributors
"""

EXAMPLES = r"""
- name: Move web1 from lab-1 to lab-2
  ferry_migrate:
    container: web1
    source: lab-1
    target: lab-2
  register: moved

- name: Say how long web1 was frozen
  ansible.builtin.debug:
    msg: "downtime {{ moved.report.times.downtime }} s with {{ moved.report.method }}"

- name: Move it back with the page server, Ferry installed in /opt/ferry, hosts from the team's inventory
  ferry_migrate:
    container: web1
    source: lab-2
    target: lab-1
    method: page-server
    ferry_cli: /opt/ferry/bin/ferry.js
  environment:
    FERRY_INVENTORY: /etc/ansible/fleet
"""

RETURN = r"""
report:
  description: Ferry's report of the migration (every Table II phase time in C(times), C(outcome), C(runsOn), C(warnings), bytes moved, CRIU statistics).
  returned: when Ferry ran the migration, moved or rolled back
  type: dict
  sample: {"outcome": "migrated", "runsOn": "lab-2", "method": "page-server", "times": {"downtime": 1.25, "total": 3.1}}
plan:
  description: What a dry run found (method and why, provision check, blockers, hooks).
  returned: in check mode, when Ferry could plan
  type: dict
error:
  description: Ferry's coded error (C(code), C(message), C(details)) when it refused or failed without a report.
  returned: on such a failure
  type: dict
summary:
  description: The text Ferry prints for the result (its timing table, the dry run's findings, or its error).
  returned: when Ferry printed one
  type: str
summary_lines:
  description: I(summary), line by line.
  returned: when Ferry printed one
  type: list
  elements: str
cmd:
  description: The argument vector run.
  returned: always
  type: list
  elements: str
rc:
  description: Ferry's exit status (0 moved, or would move; 1 refused, failed or rolled back; 2 usage).
  returned: when Ferry ran
  type: int
stderr_lines:
  description: Ferry's progress lines (phases, hook output).
  returned: when Ferry ran
  type: list
  elements: str
"""

import json
import re

from ansible.module_utils.basic import AnsibleModule

# src/util/names.ts NAME_PATTERN; \Z because Python's $ also matches before a final newline.
NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}\Z")


def ferry_argv(params, check_mode):
    """The argument vector for Ferry (pure)."""
    argv = [
        params["ferry_cli"],
        "migrate",
        params["container"],
        "--from",
        params["source"],
        "--to",
        params["target"],
        "--method",
        params["method"],
        "--format",
        "summary+json",
    ]
    if check_mode:
        argv.append("--dry-run")
    return argv


def failure_message(params, answer, rc, stderr):
    report = answer.get("report")
    if isinstance(report, dict) and report.get("outcome") == "rolled-back":
        return "%s was NOT moved: rolled back, it runs on %s: %s" % (params["container"], report.get("runsOn"), report.get("error", ""))
    error = answer.get("error")
    if isinstance(error, dict):
        return "ferry migrate failed: %s [%s]" % (error.get("message"), error.get("code"))
    tail = [line for line in stderr.splitlines() if line.strip()][-3:]
    return "ferry migrate exited %d: %s" % (rc, " | ".join(tail))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            container=dict(type="str", required=True),
            source=dict(type="str", required=True),
            target=dict(type="str", required=True),
            method=dict(type="str", default="auto"),
            ferry_cli=dict(type="str", default="ferry"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for key in ("container", "source", "target", "method"):
        if not NAME.match(params[key]):
            module.fail_json(
                msg="%s=%s is not a Ferry name: use 1-31 characters, lowercase letters, digits and '-', starting with a letter" % (key, json.dumps(params[key])),
            )
    if not params["ferry_cli"] or params["ferry_cli"].startswith("-"):
        module.fail_json(msg="ferry_cli=%s must name the Ferry command" % json.dumps(params["ferry_cli"]))

    argv = ferry_argv(params, module.check_mode)
    rc, out, err = module.run_command(argv, expand_user_and_vars=False)
    answer = {}
    if out.strip().startswith("{"):
        try:
            answer = json.loads(out)
        except ValueError:
            answer = {}
    if not isinstance(answer, dict):
        answer = {}

    result = dict(cmd=argv, rc=rc, stderr_lines=err.splitlines(), changed=rc == 0 and not module.check_mode)
    summary = answer.get("summary")
    if isinstance(summary, str):
        result["summary"] = summary
        result["summary_lines"] = summary.splitlines()
    for key in ("report", "plan", "error"):
        if key in answer:
            result[key] = answer[key]
    if rc != 0:
        module.fail_json(msg=failure_message(params, answer, rc, err), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
