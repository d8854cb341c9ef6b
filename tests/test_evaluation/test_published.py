"""The published CS-UNet numbers have one home; the docs quote it through a generated block."""
import re
from pathlib import Path

import pytest

from csunet.evaluation.published import (PUBLISHED_CSUNET_IOU, TABLE_BEGIN, TABLE_END,
                                         published_iou, published_markdown_table)

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = [REPO_ROOT / 'README.md', *sorted((REPO_ROOT / 'docs').glob('*.md'))]
BLOCK = re.compile(re.escape(TABLE_BEGIN) + r'.*?' + re.escape(TABLE_END), re.S)


def test_table_lists_every_split_and_value():
    table = published_markdown_table()
    for split, values in PUBLISHED_CSUNET_IOU.items():
        for value in values.values():
            assert f'| {value:.2f} ' in table or f'| {value:.2f} |' in table, (split, value)
    assert published_iou('EBC1') == PUBLISHED_CSUNET_IOU['ebc1']
    assert published_iou('unknown') is None


@pytest.mark.parametrize('path', DOCS, ids=lambda p: p.name)
def test_docs_quote_the_published_numbers_from_their_home(path):
    text = path.read_text(encoding='utf-8')
    for block in BLOCK.findall(text):
        assert block == published_markdown_table(), (
            f'{path.name}: the published-IoU table differs from csunet/evaluation/published.py; '
            f'paste published_markdown_table() between the markers')
    # Outside the generated blocks no line lists published values by hand (a copy that would go
    # stale): two or more of them on one line is such a list.
    published = [v for split in PUBLISHED_CSUNET_IOU.values() for v in split.values()]
    # As written by hand (93.5, 96.43) or as in the table (93.50); whole numbers (98) only in
    # the table's form, since a bare 98 is too common to mean the paper.
    values = {f'{v:g}' for v in published if '.' in f'{v:g}'} | {f'{v:.2f}' for v in published}
    for number, line in enumerate(BLOCK.sub('', text).splitlines(), 1):
        found = {v for v in values if re.search(rf'(?<![\d.]){re.escape(v)}(?![\d])', line)}
        assert len(found) < 2, f'{path.name}: line {number} quotes published IoUs by hand: {line}'


def test_readme_and_results_carry_the_table():
    for name in ('README.md', 'docs/results.md'):
        assert len(BLOCK.findall((REPO_ROOT / name).read_text(encoding='utf-8'))) == 1, name
