#!/usr/bin/env python3
"""scripts/check-manpage.py: dadshim(8) against what the code says.

The page in the tree is the one installed and the one `man -l` shows, so
it must be complete as it is:
  - no @PLACEHOLDER@, and the version in .TH is scripts/deb/changelog's;
  - every option each command's --help prints is in that command's
    SYNOPSIS lines;
  - every line the shim can log (the format strings of shim_log() calls
    and of send.c's wait_log[] table) is in the page: each fixed stretch of
    a format (between its % conversions) appears in the rendered text.
Prints what drifted, one line each; exits 1 if anything did, else 0.
Usage: check-manpage.py (from the top of the tree; needs man and col).
"""
import re
import subprocess
import sys

PAGE = "scripts/dadshim.8"
COMMANDS = ("dadshim", "dadshim-enable", "dadshim-doctor")


def rendered():
    out = subprocess.run(["man", "-l", PAGE], env={"MANWIDTH": "1000", "LC_ALL": "C.UTF-8",
                                                    "PATH": "/usr/bin:/bin"},
                         capture_output=True, check=True).stdout
    text = subprocess.run(["col", "-b"], input=out, capture_output=True, check=True).stdout
    return text.decode()


def synopsis(text):
    """Each command's SYNOPSIS lines, joined, by command name."""
    lines, on = {}, False
    for line in text.splitlines():
        if line.strip() == "SYNOPSIS":
            on = True
            continue
        if on and line and not line.startswith(" "):
            break
        words = line.split()
        if on and words and words[0] in COMMANDS:
            lines[words[0]] = lines.get(words[0], "") + " " + line
    return lines


def help_options(cmd):
    out = subprocess.run(["sh", "scripts/" + cmd, "--help"], capture_output=True,
                         text=True, check=False).stdout
    # Option names only: "--wait-ms N" gives --wait-ms; the usage line too.
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-h)(?![\w-])", out)))


def log_formats():
    """The format strings the shim logs with."""
    fmts = []
    for path in ("shim/interpose.c", "shim/send.c", "shim/core.c"):
        src = open(path, encoding="utf-8").read()
        calls = re.findall(r'shim_log\(\s*[\w\[\].]+\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', src)
        table = re.findall(r'\[WAIT_\w+\]\s*=\s*\{\s*LV_\w+\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', src)
        snp = re.findall(r'snprintf\(msg,\s*SETTING_MSG_LEN,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', src)
        for lit in calls + table + snp:
            fmts.append("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', lit)).replace('\\"', '"'))
    return [f for f in fmts if f != "%s"]


def main():
    problems = []
    src = open(PAGE, encoding="utf-8").read()
    for m in sorted(set(re.findall(r"@[A-Z_]+@", src))):
        problems.append("%s keeps the placeholder %s" % (PAGE, m))
    version = subprocess.run(["dpkg-parsechangelog", "-l", "scripts/deb/changelog", "-S", "Version"],
                             capture_output=True, text=True, check=True).stdout.strip()
    th = re.search(r'^\.TH\s+\S+\s+\S+\s+"[^"]*"\s+"dadshim ([^"]*)"', src, re.M)
    if not th or th.group(1) != version:
        problems.append("%s: .TH names version %s, the changelog %s"
                        % (PAGE, th.group(1) if th else "none", version))
    text = rendered()
    flat = " ".join(text.split())
    syn = synopsis(text)
    nopts = 0
    for cmd in COMMANDS:
        opts = help_options(cmd)
        nopts += len(opts)
        if not opts:
            problems.append("%s --help printed no option" % cmd)
        words = set(re.findall(r"--?[a-z][a-z-]*", syn.get(cmd, "")))
        for o in opts:
            if o not in words:
                problems.append("%s --help has %s, its SYNOPSIS in %s does not" % (cmd, o, PAGE))
    fmts = log_formats()
    if len(fmts) < 10:
        problems.append("found only %d log formats in shim/: the check reads the code wrongly" % len(fmts))
    for f in fmts:
        for part in re.split(r"%[-0-9.]*[lzh]*[sdux]", f):
            part = " ".join(part.split()).strip(" :;,()")
            if len(part) >= 4 and part not in flat:
                problems.append('log line "%s": "%s" is not in %s' % (f, part, PAGE))
    for p in problems:
        print(p)
    print("checked: %d options of %d commands, %d log formats" % (nopts, len(COMMANDS), len(fmts)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
