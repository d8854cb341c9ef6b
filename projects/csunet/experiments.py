"""The CS-UNet experiment grid of the paper: its axes, config names and leaf configs.

The command line is ``tools/misc/experiments.py``::

    python tools/misc/experiments.py list            # one config name per line, then the count
    python tools/misc/experiments.py list --count    # the count only
    python tools/misc/experiments.py write --encoder seresnext50_32x4d --cnn-pretrain micronet \\
        --swin original --swin-pretrain microlite --dataset super1 [-o configs/csunet/] [--force]
    python tools/misc/experiments.py list --baselines  # the comparison models' experiments
    python tools/misc/experiments.py baseline --model transdeeplab-2l --swin original \\
        --swin-pretrain imagenet --dataset ebc1 [-o configs/baselines/] [--force]

Axes: CNN encoder (``configs/_base_/encoders/``) x CNN pretraining x Swin variant
(``configs/_base_/swin/``) x Swin pretraining (``configs/_base_/pretraining/``) x dataset
(``configs/_base_/datasets/``).

Config names follow ``{algorithm}_{backbone}_{pretraining}_{dataset}.py``:

* backbone: the encoder's short name (``r50``, ``serx50``, ``effb4`` ...), with ``-swinint`` for
  the Swin "intermediate" variant (2, 2, 2, 2);
* pretraining: ``{cnn}-{swin}`` with the tags ``rand`` (none), ``in`` (ImageNet), ``mn``
  (MicroNet), ``inmn`` (ImageNet -> MicroNet), ``ml`` (MicroLite), ``inml`` (ImageNet ->
  MicroLite); ``imagenet`` when both branches use ImageNet; left out when both are random
  (``csunet_r50_super3.py``).

Why leaf configs assemble the model themselves: mmengine refuses a key that two sibling ``_base_``
files both set, so the dataset / encoder / Swin / pretraining fragments cannot all set ``model``.
They set namespaced variables instead (``model_test_cfg``, ``cnn_model_name``, ``swin_variant``,
``cnn_init_cfg`` ...) and the leaf reads them as ``_base_.<name>``. Checkpoints: the leaf sets the
concrete file (``checkpoints/cnn_{encoder}_{pretraining}.pth``,
``checkpoints/swin_{variant}_{pretraining}.pth``), documented in the pretraining fragments.

Not written anywhere: the decoder's ``in_channels`` (Swin-T widths, then the CNN's at strides
4/8/16/32), depths, heads and drop-path rate; the ``CSUNet`` segmentor derives them from the built
encoder. Where each fact lives: ``configs/README.md``.
"""
import itertools
import os
from typing import Dict, List, NamedTuple, Optional

from .fileio import write_text_atomic
from .models.backbones.swin_resmlp import SWIN_DEPTHS
from .models.utils.cnn_convert import timm_name_for

#: The checkout this module lives in (``projects/csunet/`` -> the repository) when csunet is
#: installed editable from it (``pip install -e .``), as the README's setup does.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: Its ``configs/``: the default ``configs_dir`` of :func:`render` / :func:`write_leaf`, whose
#: ``_base_`` fragments the leaves inherit.
CONFIGS_DIR = os.path.join(REPO_ROOT, 'configs')


class Encoder(NamedTuple):
    short: str  # in config names
    nasa: str  # segmentation_models_pytorch / NASA MicroNet encoder name

    @property
    def converted(self) -> str:
        """The timm model that tools/model_converters/micronet2timm.py emits (``TIMM_NAMES``)."""
        return timm_name_for(self.nasa)


#: fragment name (= timm model name of the random-init encoder) -> Encoder.
ENCODERS: Dict[str, Encoder] = {
    'resnet50': Encoder('r50', 'resnet50'),
    'seresnet50': Encoder('ser50', 'se_resnet50'),
    'seresnet101': Encoder('ser101', 'se_resnet101'),
    'seresnet152': Encoder('ser152', 'se_resnet152'),
    'seresnext50_32x4d': Encoder('serx50', 'se_resnext50_32x4d'),
    'seresnext101_32x4d': Encoder('serx101', 'se_resnext101_32x4d'),
    'legacy_senet154': Encoder('senet154', 'senet154'),
    'resnext101_32x8d': Encoder('rx101', 'resnext101_32x8d'),
    'inception_v4': Encoder('incv4', 'inceptionv4'),
    'inception_resnet_v2': Encoder('incresv2', 'inceptionresnetv2'),
    'densenet161': Encoder('dn161', 'densenet161'),
    'densenet201': Encoder('dn201', 'densenet201'),
    'vgg13_bn': Encoder('vgg13bn', 'vgg13_bn'),
    'vgg16_bn': Encoder('vgg16bn', 'vgg16_bn'),
    'mobilenetv2_100': Encoder('mnv2', 'mobilenet_v2'),
    'efficientnet_b1': Encoder('effb1', 'efficientnet-b1'),
    'efficientnet_b2': Encoder('effb2', 'efficientnet-b2'),
    'efficientnet_b3': Encoder('effb3', 'efficientnet-b3'),
    'efficientnet_b4': Encoder('effb4', 'efficientnet-b4'),
    'efficientnet_b5': Encoder('effb5', 'efficientnet-b5'),
}


#: Header line that marks a leaf config as this generator's output (hand-written leaves lack it).
WRITTEN_BY = '# Written by tools/misc/experiments.py write'
#: The same for the leaves of the comparison models (``configs/baselines/``).
WRITTEN_BY_BASELINE = '# Written by tools/misc/experiments.py baseline'
#: pretraining -> tag in config names.
#: ``ssl``: self-supervised on your own unlabelled micrographs (``configs/pretrain/``).
CNN_PRETRAININGS = {'none': 'rand', 'imagenet': 'in', 'micronet': 'mn',
                    'imagenet_micronet': 'inmn', 'ssl': 'ssl'}
SWIN_PRETRAININGS = {'none': 'rand', 'imagenet': 'in', 'microlite': 'ml',
                     'imagenet_microlite': 'inml', 'ssl': 'ssl'}
#: CNN encoders an mmpretrain self-supervised checkpoint loads into as it is -> the mmpretrain
#: backbone to pretrain (``configs/pretrain/*_resnet50_*`` with ``model.backbone`` set to it):
#: these have timm's parameter names and shapes, tested. mmpretrain's SE-ResNe(X)t, EfficientNet,
#: DenseNet, ... name theirs differently from timm's.
SSL_ENCODERS = {
    'resnet50': dict(type='ResNet', depth=50),
    'resnext101_32x8d': dict(type='ResNeXt', depth=101, groups=32, width_per_group=8),
}
#: Swin variants: the backbone's table (depths; the decoder mirrors them).
SWIN_VARIANTS = list(SWIN_DEPTHS)
#: dataset fragment -> number of classes (Super: matrix/secondary/tertiary; EBC: background/oxide).
#: How its images are inferred (whole / slide) is the fragment's ``model_test_cfg``.
DATASETS = {'super1': 3, 'super2': 3, 'super3': 3, 'super4': 3,
            'ebc1': 2, 'ebc2': 2, 'ebc3': 2, 'ebc3_heldout': 2}


class Experiment(NamedTuple):
    encoder: str
    cnn_pretrain: str
    swin: str
    swin_pretrain: str
    dataset: str

    @property
    def name(self) -> str:
        backbone = ENCODERS[self.encoder].short
        if self.swin == 'intermediate':
            backbone += '-swinint'
        if self.cnn_pretrain == 'none' and self.swin_pretrain == 'none':
            parts = ['csunet', backbone, self.dataset]
        elif self.cnn_pretrain == 'imagenet' and self.swin_pretrain == 'imagenet':
            parts = ['csunet', backbone, 'imagenet', self.dataset]
        else:
            tag = f'{CNN_PRETRAININGS[self.cnn_pretrain]}-{SWIN_PRETRAININGS[self.swin_pretrain]}'
            parts = ['csunet', backbone, tag, self.dataset]
        return '_'.join(parts)

    @property
    def cnn_checkpoint(self) -> Optional[str]:
        if self.cnn_pretrain == 'none':
            return None
        return f'checkpoints/cnn_{self.encoder}_{self.cnn_pretrain}.pth'

    @property
    def swin_checkpoint(self) -> Optional[str]:
        if self.swin_pretrain == 'none':
            return None
        return f'checkpoints/swin_{self.swin}_{self.swin_pretrain}.pth'


def all_experiments() -> List[Experiment]:
    return [Experiment(*c) for c in itertools.product(ENCODERS, CNN_PRETRAININGS, SWIN_VARIANTS,
                                                      SWIN_PRETRAININGS, DATASETS)
            if c[1] != 'ssl' or c[0] in SSL_ENCODERS]


def validate(**axes: str) -> Experiment:
    """Experiment from axis values; ValueError listing the valid values of any unknown one."""
    valid = dict(encoder=ENCODERS, cnn_pretrain=CNN_PRETRAININGS, swin=SWIN_VARIANTS,
                 swin_pretrain=SWIN_PRETRAININGS, dataset=DATASETS)
    errors = [f'unknown {axis.replace("_", "-")} {axes[axis]!r}; valid: {", ".join(choices)}'
              for axis, choices in valid.items() if axes[axis] not in choices]
    if axes['cnn_pretrain'] == 'ssl' and axes['encoder'] not in SSL_ENCODERS:
        errors.append(f'cnn-pretrain ssl needs encoder {" or ".join(SSL_ENCODERS)} (the CNNs '
                      f'whose mmpretrain checkpoints timm reads), not {axes["encoder"]!r}')
    if errors:
        raise ValueError('\n'.join(errors))
    return Experiment(**{axis: axes[axis] for axis in valid})


def _relative_base(out_dir: Optional[str], configs_dir: Optional[str], leaf_dir: str) -> str:
    """``configs_dir/_base_`` as a leaf written into ``out_dir`` (default:
    ``configs_dir/leaf_dir``) names it; FileNotFoundError when it holds no fragments."""
    configs_dir = os.path.abspath(configs_dir or CONFIGS_DIR)
    base = os.path.join(configs_dir, '_base_')
    if not os.path.isfile(os.path.join(base, 'csunet_experiment.py')):
        # A non-editable install has no configs/ beside the package: the leaves would point at
        # fragments that do not exist.
        raise FileNotFoundError(
            f'{base}: no csunet_experiment.py, so not the repository\'s configs/_base_ (csunet '
            'is not installed editable from its checkout); pass configs_dir=<repo>/configs')
    out_dir = os.path.abspath(out_dir or os.path.join(configs_dir, leaf_dir))
    return os.path.relpath(base, out_dir).replace(os.sep, '/')


def render(exp: Experiment, out_dir: Optional[str] = None,
           configs_dir: Optional[str] = None) -> str:
    """Text of the leaf config of ``exp``, with ``_base_`` paths from ``out_dir`` (default:
    ``configs_dir/csunet``) to ``configs_dir/_base_`` (default: :data:`CONFIGS_DIR`)."""
    base = _relative_base(out_dir, configs_dir, 'csunet')
    num_classes = DATASETS[exp.dataset]
    cnn_name = '_base_.cnn_model_name'
    if exp.cnn_pretrain != 'none':
        # Pretrained CNN files come from micronet2timm.py, in the layout of its timm model.
        cnn_name = '_base_.cnn_converted_model_name'

    def init(branch: str, checkpoint: Optional[str]) -> str:
        if checkpoint is None:
            return f'init_cfg=_base_.{branch}_init_cfg'
        # _delete_: the model base has init_cfg=None, which a dict cannot be merged into.
        return (f'init_cfg=dict(\n                _base_.{branch}_init_cfg,\n'
                f"                checkpoint='{checkpoint}',\n                _delete_=True)")

    return f'''\
# CS-UNet on {exp.dataset}: CNN {exp.encoder} ({exp.cnn_pretrain}) + Swin-T {exp.swin} \
({exp.swin_pretrain}).
{WRITTEN_BY} --encoder {exp.encoder} \\
#     --cnn-pretrain {exp.cnn_pretrain} --swin {exp.swin} --swin-pretrain {exp.swin_pretrain} \\
#     --dataset {exp.dataset}
# Checkpoint files: see configs/_base_/pretraining/.
_base_ = [
    '{base}/csunet_experiment.py',
    '{base}/datasets/{exp.dataset}.py',
    '{base}/encoders/{exp.encoder}.py',
    '{base}/swin/{exp.swin}.py',
    '{base}/pretraining/cnn_{exp.cnn_pretrain}.py',
    '{base}/pretraining/swin_{exp.swin_pretrain}.py',
]
# The decoder's widths, depths, heads and drop-path rate follow the encoder (CSUNet segmentor).
model = dict(
    backbone=dict(
        swin=dict(
            arch=_base_.swin_variant,
            {init('swin', exp.swin_checkpoint)}),
        cnn=dict(
            model_name={cnn_name},
            {init('cnn', exp.cnn_checkpoint)})),
    decode_head=dict(num_classes={num_classes}),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
'''


#: The paper's comparison models on the same Swin-T weights (``configs/baselines/``): the name
#: in config names -> its model fragment (``_base_/models/<fragment>.py``), a description, the
#: backbone argument holding the Swin-T stage depths (stages 0-2: these models have no stride-32
#: stage) and the one holding the Swin-T ``init_cfg``; with ``cnn``, the model also has a
#: ResNet-50 (``backbone.cnn``) that starts from the CNN pretraining paired with the Swin one in
#: :data:`CNN_FOR_SWIN_PRETRAINING`.
BASELINES: Dict[str, Dict[str, object]] = {
    'transdeeplab-2l': dict(fragment='transdeeplab', depths_key='depths', init_key='init_cfg',
                            cnn=False, title='TransDeepLab, 2-level Swin spatial pyramid'),
    'hiformer-b': dict(fragment='hiformer', depths_key='depths', init_key='swin_init_cfg',
                       cnn=True, title='HiFormer-B (ResNet-50 + Swin-T + Double-Level Fusion)'),
}
#: Swin pretraining -> the CNN pretraining of a comparison model's CNN (the paper's pairs: both
#: ImageNet, or micrographs: MicroNet CNN with MicroLite Swin-T).
CNN_FOR_SWIN_PRETRAINING = {'none': 'none', 'imagenet': 'imagenet', 'microlite': 'micronet',
                            'imagenet_microlite': 'imagenet_micronet', 'ssl': 'ssl'}


class BaselineExperiment(NamedTuple):
    model: str
    swin: str
    swin_pretrain: str
    dataset: str

    @property
    def name(self) -> str:
        swin = 'swint' + ('-int' if self.swin == 'intermediate' else '')
        tag = [] if self.swin_pretrain == 'none' else [SWIN_PRETRAININGS[self.swin_pretrain]]
        return '_'.join([self.model, swin, *tag, self.dataset])

    @property
    def swin_checkpoint(self) -> Optional[str]:
        return Experiment('resnet50', 'none', self.swin, self.swin_pretrain,
                          self.dataset).swin_checkpoint


def all_baselines() -> List[BaselineExperiment]:
    return [BaselineExperiment(*c) for c in itertools.product(BASELINES, SWIN_VARIANTS,
                                                              SWIN_PRETRAININGS, DATASETS)]


def validate_baseline(**axes: str) -> BaselineExperiment:
    """A baseline experiment from axis values; ValueError listing the valid values of any unknown
    one."""
    valid = dict(model=BASELINES, swin=SWIN_VARIANTS, swin_pretrain=SWIN_PRETRAININGS,
                 dataset=DATASETS)
    errors = [f'unknown {axis.replace("_", "-")} {axes[axis]!r}; valid: {", ".join(choices)}'
              for axis, choices in valid.items() if axes[axis] not in choices]
    if errors:
        raise ValueError('\n'.join(errors))
    return BaselineExperiment(**{axis: axes[axis] for axis in valid})


def render_baseline(exp: BaselineExperiment, out_dir: Optional[str] = None,
                    configs_dir: Optional[str] = None) -> str:
    """Text of the leaf config of a baseline experiment: the model fragment, trained like CS-UNet
    (its loss and NASA's two-phase schedule: equal budget), with the Swin-T variant's stage depths
    and the Swin pretraining fragment's ``init_cfg``; paths as in :func:`render` (default
    ``out_dir``: ``configs_dir/baselines``)."""
    base = _relative_base(out_dir, configs_dir, 'baselines')
    spec = BASELINES[exp.model]
    depths = list(SWIN_DEPTHS[exp.swin][:3])

    def init(key: str, fragment_var: str, checkpoint: Optional[str], indent: str) -> str:
        if checkpoint is None:
            return f'{key}=_base_.{fragment_var}'
        return (f'{key}=dict(\n{indent}    _base_.{fragment_var},\n'
                f"{indent}    checkpoint='{checkpoint}',\n{indent}    _delete_=True)")

    swin_init = init(spec['init_key'], 'swin_init_cfg', exp.swin_checkpoint, ' ' * 8)
    cnn_pre = CNN_FOR_SWIN_PRETRAINING[exp.swin_pretrain]
    cnn_base, cnn_part = '', ''
    if spec['cnn']:
        cnn_base = f"\n    '{base}/pretraining/cnn_{cnn_pre}.py',"
        checkpoint = Experiment('resnet50', cnn_pre, exp.swin, exp.swin_pretrain,
                                exp.dataset).cnn_checkpoint
        cnn_part = (',\n        cnn=dict(\n            '
                    + init('init_cfg', 'cnn_init_cfg', checkpoint, ' ' * 12) + ')')
    return f'''\
# {spec['title']} on {exp.dataset}: Swin-T {exp.swin} ({exp.swin_pretrain}), trained like CS-UNet
# (0.7 BCE + 0.3 Dice, NASA two-phase schedule); its own recipe:
# _base_/schedules/sgd_poly_ce-dice.py.
{WRITTEN_BY_BASELINE} --model {exp.model} --swin {exp.swin} \\
#     --swin-pretrain {exp.swin_pretrain} --dataset {exp.dataset}
# Checkpoint files: see configs/_base_/pretraining/.
_base_ = [
    '{base}/models/{spec['fragment']}.py',
    '{base}/default_runtime.py',
    '{base}/schedules/nasa_two_phase.py',
    '{base}/datasets/{exp.dataset}.py',
    '{base}/pretraining/swin_{exp.swin_pretrain}.py',{cnn_base}
]
log_processor = dict(by_epoch=True)
model = dict(
    backbone=dict(
        {spec['depths_key']}={depths},  # Swin-T {exp.swin}, stages 0-2
        {swin_init}{cnn_part}),
    decode_head=dict(num_classes={DATASETS[exp.dataset]}),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
'''


def write_leaf(exp, out_dir: str, force: bool = False, configs_dir: Optional[str] = None) -> str:
    """Write the leaf of ``exp`` (an :class:`Experiment` or a :class:`BaselineExperiment`) into
    ``out_dir`` (atomically) and return its path; its ``_base_`` is ``configs_dir/_base_``
    (default: :data:`CONFIGS_DIR`). An existing file that differs is kept unless ``force``:
    ``FileExistsError`` names it."""
    rendering = render if isinstance(exp, Experiment) else render_baseline
    text = rendering(exp, out_dir, configs_dir)
    path = os.path.join(out_dir, exp.name + '.py')
    if os.path.exists(path) and not force:
        with open(path, encoding='utf-8') as f:
            if f.read() != text:
                raise FileExistsError(f'{path} exists and differs (use --force)')
    write_text_atomic(path, text)
    return path
