#!/usr/bin/env python
"""Convert a NASA MicroNet encoder checkpoint (segmentation_models_pytorch encoders) into the timm
model CS-UNet's CNN branch (:class:`TimmCNN`) builds, and check that it loads.

    python tools/model_converters/micronet2timm.py \
        se_resnext50_32x4d_pretrained_microscopynet_v1.0.pth.tar -o pretrain/se_resnext50_mn.pth
    python tools/model_converters/micronet2timm.py se_resnext50_32x4d --download \
        --pretraining imagenet-microscopynet -o pretrain/se_resnext50_imn.pth

The output (``--layout features``, default) loads as
``model.backbone.cnn = dict(model_name=<timm name printed>, init_cfg=dict(type='Pretrained',
checkpoint=OUT))``; ``--layout classification`` writes timm's classifier layout instead (no head).
See ``csunet/models/utils/cnn_convert.py`` for the families and the parity guarantees.
"""
import argparse
import os
import re
import socket
import sys
import tempfile

import csunet  # noqa: F401  (registers CS-UNet modules; must precede mmseg.models)
from csunet.fileio import ConversionError, load_checkpoint_file, save_checkpoint_atomic
from csunet.models.backbones.timm_cnn import TimmCNN
from csunet.models.utils import PretrainedLoadError, load_pretrained
from csunet.models.utils.cnn_convert import (TIMM_NAMES, convert_micronet_state_dict, micronet_url,
                                             to_features_only)

_NASA_FILE = re.compile(r'^(.+?)_pretrained_(microscopynet|imagenet-microscopynet)_v[\d.]+'
                        r'\.pth(\.tar)?$')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('src', help='NASA checkpoint file, or with --download an encoder name')
    p.add_argument('-o', '--out', required=True, help='output checkpoint')
    p.add_argument('--encoder', default=None,
                   help='smp/NASA encoder name (default: from the NASA file name or SRC); '
                   f'one of {sorted(TIMM_NAMES)}')
    p.add_argument('--download', action='store_true', help="download NASA's checkpoint first")
    p.add_argument('--pretraining', default='microscopynet',
                   help="'microscopynet' or 'imagenet-microscopynet' (with --download)")
    p.add_argument('--version', type=float, default=None,
                   help='NASA version 1.0 / 1.1 (with --download; default as NASA)')
    p.add_argument('--url', default=None, help='download from this URL (a mirror) instead')
    p.add_argument('--layout', choices=('features', 'classification'), default='features',
                   help='features: TimmCNN.model (timm features_only) names; classification: '
                   'timm classifier names')
    p.add_argument('--min-loaded-ratio', type=float, default=None,
                   help='fraction of the target that must load (default 1.0 for features, '
                   '0.9 for classification)')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='allow pickled non-tensor objects in the source (weights_only=False)')
    return p.parse_args(argv)


def download(url: str, directory: str) -> str:
    from torch.hub import download_url_to_file
    dst = os.path.join(directory, os.path.basename(url) or 'download.pth')
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)
    try:
        download_url_to_file(url, dst, progress=False)
    except Exception as e:  # noqa: BLE001 - any network failure, re-raised readably
        raise ConversionError(
            f'cannot download {url} ({type(e).__name__}: {e}). Without network access, fetch the '
            f'file elsewhere and pass its path as SRC (with --encoder if renamed).') from e
    finally:
        socket.setdefaulttimeout(old)
    return dst


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            if args.download:
                encoder = args.encoder or args.src
                url = args.url or micronet_url(encoder, args.pretraining, args.version)
                src = download(url, tmpdir)
            else:
                src = args.src
                m = _NASA_FILE.match(os.path.basename(src))
                encoder = args.encoder or (m and {'resnext101': 'resnext101_32x8d'}.get(
                    m.group(1), m.group(1)))
                if not encoder:
                    raise ConversionError(f'{src}: cannot tell the encoder from the file name; '
                                          f'pass --encoder')
                url = None
            timm_name, state, info = convert_micronet_state_dict(
                load_checkpoint_file(src, trust=args.trust_checkpoint), encoder)
        if args.layout == 'features':
            target = TimmCNN(model_name=timm_name).model
            state, unused = to_features_only(state, target)
            ratio = 1.0 if args.min_loaded_ratio is None else args.min_loaded_ratio
        else:
            import timm
            target = timm.create_model(timm_name, num_classes=0)
            unused = []
            ratio = 0.9 if args.min_loaded_ratio is None else args.min_loaded_ratio
        meta = dict(source=src if url is None else url, converter='micronet2timm',
                    encoder=encoder, timm_name=timm_name, layout=args.layout,
                    dropped_head=info['dropped_head'], unused_by_features_only=unused)
        reports = []
        save_checkpoint_atomic(
            {'meta': meta, 'state_dict': state}, args.out,
            verify=lambda tmp: reports.append(load_pretrained(
                target, tmp, 'cnn', min_loaded_ratio=ratio)))
    except (ConversionError, PretrainedLoadError) as e:
        print(f'micronet2timm: error: {e}', file=sys.stderr)
        return 1
    r = reports[0]
    print(f'{meta["source"]}: {encoder} -> timm {timm_name!r} ({args.layout} layout)')
    print(f'  loaded {len(r.loaded)}, missing {len(r.missing)}, unexpected {len(r.unexpected)}, '
          f'mismatched {len(r.mismatched)}; dropped head {len(info["dropped_head"])}, unused by '
          f'features_only {len(unused)}')
    print(f"  use: cnn=dict(model_name='{timm_name}', init_cfg=dict(type='Pretrained', "
          f"checkpoint='{args.out}'))" if args.layout == 'features' else f'  wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
