"""The docs say what exists.

Every repository path named in a README, docstring or config comment exists. The user
guide (README.md and docs/*.md) links only to what exists, names only configs that
exist, shows `tools/...` commands whose flags the tools take (read from each tool's
`--help`), and dates every figure it measured, saying on what machine.
"""

import glob
import importlib.util
import json
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from helpers import REPO, checkout_env

TOP = ('configs', 'tools', 'mmrethink', 'docs', 'tests', 'requirements', '.ci')
# A repository path: starts at a top-level folder (or is a top-level file), no
# placeholders (<...>, {...}, *, N in rethinking_Nx).
PATH = re.compile(
    r'(?<![\w./-])((?:%s)/[\w./-]*[\w]|README\.md|Makefile|model-index\.yml)'
    % '|'.join(re.escape(t) for t in TOP)
)
PLACEHOLDER = re.compile(r'[<{*]|_Nx\b|[\w-]+\.\.\.')
# Folders of MMDetection and Detectron2 that the docs cite as sources.
UPSTREAM = ('configs/scratch', 'configs/Misc')
SOURCES = sorted(
    [
        p
        for p in glob.glob(osp.join(REPO, '**', '*.md'), recursive=True)
        if not osp.relpath(p, REPO).startswith(('.venv', 'demo_output', 'work_dirs', 'data'))
    ]
    + glob.glob(osp.join(REPO, 'mmrethink', '**', '*.py'), recursive=True)
    + glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
    + glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    + [osp.join(REPO, 'Makefile')]
)
# The user guide: the landing page and one page per task.
GUIDE = [osp.join(REPO, 'README.md')] + sorted(glob.glob(osp.join(REPO, 'docs', '*.md')))
# Pages whose links are checked: the guide and the config folders' READMEs.
LINKING = GUIDE + sorted(glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))


def page_id(path: str) -> str:
    return osp.relpath(path, REPO)


def named_paths(path: str):
    text = open(path).read()
    for match in PATH.finditer(text):
        candidate = match.group(1).rstrip('.')
        tail = text[match.end() : match.end() + 3]
        if (
            PLACEHOLDER.search(candidate)
            or candidate.startswith(UPSTREAM)
            or tail.startswith(('*', '<', '{', '...'))
        ):
            continue
        yield candidate


@pytest.mark.parametrize('source', SOURCES, ids=page_id)
def test_every_named_path_exists(source):
    absent = [p for p in named_paths(source) if not osp.exists(osp.join(REPO, p))]
    assert not absent, f'{page_id(source)} names paths that do not exist: {absent}'


# --- Markdown, read as the guide's pages are written --------------------------------

FENCE = re.compile(r'^```[^\n]*\n(.*?)^```[ \t]*$', re.M | re.S)
INLINE = re.compile(r'`([^`]+)`')
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
HEADING = re.compile(r'^#{1,6}\s+(.+?)\s*#*\s*$', re.M)


def code_blocks(text: str) -> List[str]:
    return [m.group(1) for m in FENCE.finditer(text)]


def prose(text: str) -> str:
    """The page without its fenced code blocks."""
    return FENCE.sub('', text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as '-'."""
    return re.sub(r'[^\w\- ]', '', heading.lower()).replace(' ', '-')


def anchors(path: str) -> Set[str]:
    return {slug(h) for h in HEADING.findall(prose(open(path).read()))}


def commands(text: str) -> Iterator[str]:
    """Every command the page shows: each line of its code blocks (continuations joined,
    comments dropped) and each inline code span."""
    for block in code_blocks(text):
        for line in block.replace('\\\n', ' ').splitlines():
            yield re.split(r'(?:^|\s)#', line, maxsplit=1)[0]
    for span in INLINE.findall(prose(text)):
        yield span.replace('\n', ' ')


# --- The landing page ----------------------------------------------------------------

README = osp.join(REPO, 'README.md')
SCREEN = 40  # lines: what a reader sees before scrolling


def test_the_landing_page_is_short_and_starts_with_the_commands():
    """At most ~150 lines; training the R50 GN scratch 6x arm on 8 GPUs on its first
    screen; the two commands in one block (.ci/run runs the README's test command)."""
    text = open(README).read()
    lines = text.splitlines()
    assert len(lines) <= 150, f'README.md has {len(lines)} lines: move detail to docs/'
    first_screen = '\n'.join(lines[:SCREEN])
    train = 'tools/dist_train.sh configs/rethinking/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py 8'
    assert train in first_screen
    assert any(
        re.search(r'^make demo$', b, re.M) and re.search(r'^make test$', b, re.M) and '.ci/run' in b
        for b in code_blocks(text)
    )


def test_the_landing_page_links_every_guide_page():
    linked = {
        osp.normpath(osp.join(REPO, t.partition('#')[0]))
        for t in LINK.findall(prose(open(README).read()))
    }
    unlinked = [page_id(p) for p in GUIDE[1:] if p not in linked]
    assert not unlinked, f'README.md does not link {unlinked}'


# --- Links ---------------------------------------------------------------------------


@pytest.mark.parametrize('page', LINKING, ids=page_id)
def test_every_relative_link_resolves(page):
    """A relative link points at a file or folder that exists, and a #fragment at one
    of the target page's headings."""
    broken = []
    for target in LINK.findall(prose(open(page).read())):
        if re.match(r'[a-z]+:', target):  # https:, mailto:
            continue
        path, _, fragment = target.partition('#')
        resolved = osp.normpath(osp.join(osp.dirname(page), path)) if path else page
        if not osp.exists(resolved):
            broken.append(f'{target} (no {page_id(resolved)})')
        elif fragment and resolved.endswith('.md') and fragment not in anchors(resolved):
            broken.append(f'{target} (no heading #{fragment} in {page_id(resolved)})')
    assert not broken, f'{page_id(page)} links to what does not exist: {broken}'


# --- Configs -------------------------------------------------------------------------

# A config named by its file name alone: a leaf (`mask-rcnn_r50-scratch_..._coco.py`, or
# without `.py`) or a schedule base (`rethinking_6x.py`, `lsj_100e.py`).
CONFIG_NAME = re.compile(
    r'(?<![\w./:{-])((?:cascade-mask|mask|faster|keypoint)-rcnn_[\w.-]*\w'
    r'|classifier_[\w.-]*\w|(?:rethinking|lsj)_[\w-]*\w(?:\.py)?)(?![\w{*<-])'
)
SCOPED = re.compile(r'\b(mmrethink|mmdet)::([\w./-]+\.py)')


def pack_config_names() -> Set[str]:
    return {
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    }


def scope_root(scope: str) -> str:
    """Where `scope::` configs resolve: the checkout's configs, mmdet's installed ones."""
    if scope == 'mmrethink':
        return osp.join(REPO, 'configs')
    package = importlib.util.find_spec('mmdet').submodule_search_locations[0]
    return osp.join(package, '.mim', 'configs')


def named_configs(text: str) -> Iterator[Tuple[str, str]]:
    """(how the page names it, the file it must be) for every config the page names."""
    names = pack_config_names()
    for scope, path in SCOPED.findall(text):
        yield f'{scope}::{path}', osp.join(scope_root(scope), path)
    for match in CONFIG_NAME.finditer(text):
        name = match.group(1)
        if PLACEHOLDER.search(name) or text[match.end() : match.end() + 3] == '...':
            continue
        stem = name[: -len('.py')] if name.endswith('.py') else name
        yield name, (osp.join(REPO, 'configs', f'{stem}.py') if stem not in names else '')


@pytest.mark.parametrize('page', GUIDE, ids=page_id)
def test_every_named_config_exists(page):
    """Configs named as `mmrethink::...`/`mmdet::...` or by file name exist (paths under
    configs/ are checked with every other path above)."""
    named = list(named_configs(open(page).read()))
    absent = [name for name, path in named if path and not osp.isfile(path)]
    assert not absent, f'{page_id(page)} names configs that do not exist: {absent}'


def test_the_guide_names_configs():
    """The config check above reads the pages' names (it would pass on none)."""
    named = {name for page in GUIDE for name, _ in named_configs(open(page).read())}
    assert 'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py' in named
    assert 'mmrethink::rethinking/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py' in named
    assert 'mmdet::scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py' in named


# --- Tool commands -------------------------------------------------------------------

TOOLS = osp.join(REPO, 'tools')
# The shell launchers pass their trailing arguments to these scripts.
LAUNCHED = {
    'dist_train.sh': 'train.py',
    'slurm_train.sh': 'train.py',
    'dist_test.sh': 'test.py',
    'slurm_test.sh': 'test.py',
}
TOOL_CALL = re.compile(r'(?<![\w./-])(tools/)?((?:misc/)?\w+\.(?:py|sh))(?![\w/-])')
FLAG = re.compile(r'(?<![\w-])--[A-Za-z][\w-]*')
# Runs each tool's argument parser on --help in one interpreter (one import of the stack).
HELP_SCRIPT = """
import contextlib, io, json, runpy, sys
out_file, tools = sys.argv[1], sys.argv[2:]
helps = {}
for tool in tools:
    sys.argv = [tool, '--help']
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        try:
            runpy.run_path(tool, run_name='__main__')
        except SystemExit:
            pass
    helps[tool] = text.getvalue()
json.dump(helps, open(out_file, 'w'))
"""


def python_tools() -> Dict[str, str]:
    """Each Python tool, by its path under tools/ and by its file name alone."""
    tools = {}
    for path in glob.glob(osp.join(TOOLS, '**', '*.py'), recursive=True):
        rel = osp.relpath(path, TOOLS)
        tools[rel] = tools[osp.basename(path)] = rel
    return tools


def tool_flags(tmp_dir: str) -> Dict[str, Set[str]]:
    """The flags each tool's --help lists, by its path under tools/."""
    tools = sorted(set(python_tools().values()))
    out = osp.join(tmp_dir, 'helps.json')
    subprocess.run(
        [sys.executable, '-c', HELP_SCRIPT, out] + [osp.join(TOOLS, t) for t in tools],
        cwd=REPO,
        env=checkout_env(),
        check=True,
        capture_output=True,
    )
    helps = json.load(open(out))
    flags = {}
    for tool in tools:
        text = helps[osp.join(TOOLS, tool)]
        assert text.startswith('usage:'), f'tools/{tool} --help printed no usage: {text!r}'
        flags[tool] = set(FLAG.findall(text))
    return flags


@pytest.fixture(scope='module')
def flags(tmp_path_factory) -> Dict[str, Set[str]]:
    return tool_flags(str(tmp_path_factory.mktemp('helps')))


def tool_uses(command: str) -> Iterator[Tuple[str, List[str]]]:
    """(tool under tools/, flags given to it) for each tool the command runs; a
    launcher's flags go to the script it launches, `make demo DEMO_ARGS=` to the demo."""
    tools = python_tools()
    calls = [
        m for m in TOOL_CALL.finditer(command) if m.group(1) or m.group(2) in tools
    ]  # a bare name only when it is one of the tools (`benchmark_train.py --fast`)
    for i, call in enumerate(calls):
        end = calls[i + 1].start() if i + 1 < len(calls) else len(command)
        args = re.split(r'\s(?:&&|\|\||;|\|)\s', command[call.end() : end])[0]
        name = LAUNCHED.get(call.group(2), call.group(2))
        if name in tools:
            yield tools[name], FLAG.findall(args)
    demo_args = re.search(r'\bmake demo\b.*?DEMO_ARGS=(\S+)', command)
    if demo_args:
        yield 'demo.py', FLAG.findall(demo_args.group(1))


@pytest.mark.xdist_group('tool_flags')  # one `--help` per tool, in one process
@pytest.mark.parametrize('page', GUIDE, ids=page_id)
def test_every_tool_command_uses_flags_its_tool_takes(page, flags):
    """Each `tools/...` command shown (code blocks and inline code) passes only flags
    that tool's --help lists; an inline flag on its own (`--until-converged`) is one
    some tool takes."""
    known = set().union(*flags.values())
    unknown = []
    for command in commands(open(page).read()):
        for tool, used in tool_uses(command):
            unknown += [f'tools/{tool} {f}' for f in used if f not in flags[tool]]
        if command.startswith('--'):
            unknown += [f'{f} (in `{command}`)' for f in FLAG.findall(command) if f not in known]
    assert not unknown, f'{page_id(page)} shows flags no tool takes: {unknown}'


def test_the_guide_shows_tool_commands():
    """The flag check above reads the pages' commands (it would pass on none)."""
    uses = [u for page in GUIDE for c in commands(open(page).read()) for u in tool_uses(c)]
    assert ('train.py', []) in uses and ('demo.py', ['--quick']) in uses
    assert (
        'pair_experiment.py',
        ['--train-ann', '--train-images', '--val-ann', '--val-images', '--out', '--run'],
    ) in uses


# --- Measured figures ----------------------------------------------------------------

DATE = re.compile(r'\b20\d\d-\d\d-\d\d\b')
MACHINE = re.compile(r'\b(?:machine|CPU|GPUs?|cores?|\d+-core|[AHV]100)\b')
NOT_MEASURED = re.compile(
    r'\bunmeasured\b|\b(?:not|never)(?:\s+\w+){0,2}\s+measured\b|\bnone\s+\w+\s+measured\b',
    re.I,
)
MEASURED = re.compile(
    r'\b\d+(?:\.\d+)?\s?(?:s|min|minutes?|seconds?|hours?)\b'  # 14 min 54 s, 0.1 s
    r'|\b\d+-(?:second|minute|hour)\b'  # a 30-second run
    r'|\b(?:measured|took)\b'
    r'|^\|.*(?:s/iter|images/s)',  # a table of timings
    re.I | re.M,
)


def units(text: str) -> Iterator[str]:
    """The page in units that state a figure together: a paragraph, with the tables or
    lists that follow its lead-in, and a code block with the paragraph after it; a
    heading ends a unit."""
    blocks: List[Tuple[str, str]] = []
    for chunk in re.split(r'(^```[^\n]*\n.*?^```[ \t]*$)', text, flags=re.M | re.S):
        if chunk.startswith('```'):
            blocks.append(('code', chunk))
            continue
        for block in re.split(r'\n\s*\n', chunk):
            block = block.strip('\n')
            if not block.strip():
                continue
            if re.match(r'#{1,6}\s', block):
                blocks.append(('heading', block))
                continue
            follows = re.match(r'\s*(?:\||[-*]\s|\d+\.\s)', block)
            blocks.append(('follows' if follows else 'prose', block))
    unit = ''
    for i, (kind, block) in enumerate(blocks):
        previous = blocks[i - 1][0] if i else None
        if unit and (kind == 'follows' or (kind == 'prose' and previous == 'code')):
            unit += '\n' + block
            continue
        if unit:
            yield unit
        unit = '' if kind == 'heading' else block
    if unit:
        yield unit


@pytest.mark.parametrize('page', GUIDE, ids=page_id)
def test_measured_figures_are_dated(page):
    """A unit stating a measured figure (a time, a rate, "measured", "took") carries the
    date it was measured and the machine it was measured on."""
    undated = [
        unit.strip()[:120]
        for unit in units(open(page).read())
        if MEASURED.search(NOT_MEASURED.sub('', unit))
        and not (DATE.search(unit) and MACHINE.search(unit))
    ]
    assert not undated, f'{page_id(page)} states figures without a date and machine: {undated}'


def test_the_guide_states_dated_figures():
    """The date check above finds the figures (it would pass on none)."""
    measured = [
        u for p in GUIDE for u in units(open(p).read()) if MEASURED.search(NOT_MEASURED.sub('', u))
    ]
    assert any('18 min 59 s' in u for u in measured)
    assert any('0.265' in u for u in measured)  # the benchmark table joins its lead-in
    assert not MEASURED.search(NOT_MEASURED.sub('', 'it has not been measured; unmeasured'))
