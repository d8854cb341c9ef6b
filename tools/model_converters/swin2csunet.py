#!/usr/bin/env python
"""Convert a Swin-T checkpoint (Microsoft, timm >= 0.9, the authors' MicroLite, Swin-Unet) into the
layout of CS-UNet's Swin branch (:class:`SwinResMLP`), and check that it loads.

    python tools/model_converters/swin2csunet.py swin_tiny_patch4_window7_224.pth \
        -o pretrain/swin_tiny_csunet_w8.pth

Use the output as ``model.backbone.swin.init_cfg = dict(type='Pretrained', checkpoint=OUT)``, or
with ``--out-prefix backbone.swin.`` as ``load_from``. See
``csunet/models/utils/swin_convert.py`` for the mapping (bias-table interpolation, fc3 init).
"""
import argparse
import sys

import csunet  # noqa: F401  (registers CS-UNet modules; must precede mmseg.models)
from csunet.fileio import ConversionError, load_checkpoint_file, save_checkpoint_atomic
from csunet.models.backbones.swin_resmlp import SKIP_SOURCES, SwinResMLP
from csunet.models.utils import PretrainedLoadError, load_pretrained
from csunet.models.utils.swin_convert import FC3_INITS, convert_swin_state_dict


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('src', help='source checkpoint (.pth)')
    p.add_argument('-o', '--out', required=True, help='output checkpoint')
    p.add_argument('--window-size', type=int, default=8, help='target window (default 8)')
    p.add_argument('--fc3-init', default='identity', choices=[str(c) for c in FC3_INITS],
                   help='init of ResMLP fc3 when the source has none (default identity)')
    p.add_argument('--skip-source', default='stage_input', choices=SKIP_SOURCES,
                   help="skip wiring of the target SwinResMLP (default stage_input, the official "
                        "CS-UNet's); stage_output also writes unit LayerNorms for norm0..norm2")
    p.add_argument('--prefix', default=None,
                   help='prefix of the Swin keys in the source (found automatically)')
    p.add_argument('--depths', type=int, nargs='+', default=None,
                   help='depths of the target SwinResMLP for the load check (default: source)')
    p.add_argument('--out-prefix', default='',
                   help="prefix for the output keys, e.g. 'backbone.swin.' for load_from")
    p.add_argument('--min-loaded-ratio', type=float, default=1.0,
                   help='fraction of the target branch that must load (default 1.0)')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='allow pickled non-tensor objects in the source (weights_only=False)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    fc3 = None if args.fc3_init == 'None' else args.fc3_init
    try:
        ckpt = load_checkpoint_file(args.src, trust=args.trust_checkpoint)
        state, info = convert_swin_state_dict(ckpt, args.window_size, fc3,
                                              stage_norms=args.skip_source == 'stage_output',
                                              prefix=args.prefix)
        depths = tuple(args.depths or info['depths'])
        embed = state['patch_embed.proj.weight'].shape[0]
        heads = tuple(state[f'layers.{i}.blocks.0.attn.relative_position_bias_table'].shape[1]
                      for i in range(len(info['depths'])))[:len(depths)]
        model = SwinResMLP(embed_dims=embed, depths=depths, num_heads=heads,
                           window_size=args.window_size, skip_source=args.skip_source,
                           patch_size=state['patch_embed.proj.weight'].shape[-1],
                           in_channels=state['patch_embed.proj.weight'].shape[1])
        meta = dict(source=args.src, converter='swin2csunet', target='SwinResMLP',
                    embed_dims=embed, num_heads=heads, **{k: v for k, v in info.items()})
        out = {'meta': meta,
               'state_dict': {args.out_prefix + k: v for k, v in state.items()}}
        reports = []
        save_checkpoint_atomic(out, args.out, verify=lambda tmp: reports.append(load_pretrained(
            model, tmp, 'swin', prefix=args.out_prefix or None,
            min_loaded_ratio=args.min_loaded_ratio)))
    except (ConversionError, PretrainedLoadError) as e:
        print(f'swin2csunet: error: {e}', file=sys.stderr)
        return 1
    r = reports[0]
    print(f'{args.src}: layout {info["layout"]}, prefix {info["prefix"]!r}, depths '
          f'{info["depths"]}, window {info["window_size"]["source"]} -> {args.window_size}')
    norms = ', stage norms' if args.skip_source == 'stage_output' else ''
    print(f'  from source {info["from_source"]}, initialised {len(info["initialised"])} '
          f'(fc3 {fc3}{norms}), dropped {len(info["dropped"])} {info["dropped"][:6]}, '
          f'outside prefix {len(info["outside_prefix"])}')
    print(f'  load check into SwinResMLP: loaded {len(r.loaded)}, missing {len(r.missing)}, '
          f'unexpected {len(r.unexpected)}, mismatched {len(r.mismatched)}')
    print(f'  wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
