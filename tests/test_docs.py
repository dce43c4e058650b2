"""Every repository path named in a README, docstring or config comment exists."""

import glob
import os.path as osp
import re

import pytest

from helpers import REPO

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


@pytest.mark.parametrize('source', SOURCES, ids=lambda p: osp.relpath(p, REPO))
def test_every_named_path_exists(source):
    absent = [p for p in named_paths(source) if not osp.exists(osp.join(REPO, p))]
    assert not absent, f'{osp.relpath(source, REPO)} names paths that do not exist: {absent}'
