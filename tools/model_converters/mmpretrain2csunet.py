#!/usr/bin/env python
"""Turn an mmpretrain classifier whose backbone is CS-UNet's SwinResMLP (keys ``backbone.*``,
``head.fc.*``) - or any Swin checkpoint swin2csunet.py reads - into a CS-UNet checkpoint: the Swin
branch under ``backbone.swin.`` and the decoder's Swin blocks initialised from the mirrored encoder
stages (Swin-Unet style, ``decode_head.layers_up.{0,1,2} <- layers.{2,1,0}``; see
``csunet/models/utils/swin_convert.py``).

    python tools/model_converters/mmpretrain2csunet.py micro_cls.pth -o csunet_init.pth

Use the output as ``load_from`` (the CNN branch and the rest of the decoder keep their init), or as
``backbone.swin.init_cfg = dict(type='Pretrained', checkpoint=OUT, prefix='backbone.swin.')``.
"""
import argparse
import sys

import csunet  # noqa: F401  (registers CS-UNet modules; must precede mmseg.models)
from csunet.fileio import ConversionError, load_checkpoint_file, save_checkpoint_atomic
from csunet.models.backbones.swin_resmlp import SwinResMLP
from csunet.models.decode_heads.swin_expand_head import SwinExpandDecoder
from csunet.models.utils import PretrainedLoadError, load_pretrained
from csunet.models.utils.swin_convert import FC3_INITS, mmpretrain_to_csunet


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('src', help='mmpretrain (or Swin) classifier checkpoint')
    p.add_argument('-o', '--out', required=True, help='output CS-UNet checkpoint')
    p.add_argument('--decoder-depths', type=int, nargs=3, default=None,
                   help='decoder Swin blocks at strides 16, 8, 4 (default: mirrored encoder)')
    p.add_argument('--window-size', type=int, default=8)
    p.add_argument('--fc3-init', default='identity', choices=[str(c) for c in FC3_INITS])
    p.add_argument('--prefix', default=None, help="Swin prefix in the source (e.g. 'backbone.')")
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='allow pickled non-tensor objects in the source (weights_only=False)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    fc3 = None if args.fc3_init == 'None' else args.fc3_init
    try:
        ckpt = load_checkpoint_file(args.src, trust=args.trust_checkpoint)
        state, meta = mmpretrain_to_csunet(ckpt, args.decoder_depths, args.window_size, fc3,
                                           source_prefix=args.prefix)
        depths = meta['encoder_depths']
        embed = state['backbone.swin.patch_embed.proj.weight'].shape[0]
        heads = tuple(state[f'backbone.swin.layers.{i}.blocks.0.attn.'
                            f'relative_position_bias_table'].shape[1] for i in range(len(depths)))
        if len(depths) != 4:
            raise ConversionError(f'CS-UNet needs a 4-stage Swin, the source has depths {depths}')
        swin = SwinResMLP(embed_dims=embed, depths=depths, num_heads=heads,
                          window_size=args.window_size)
        decoder = SwinExpandDecoder(
            in_channels=[embed * 2**i for i in range(4)], channels=embed,
            decoder_depths=meta['decoder_depths'], num_heads=heads[2::-1],
            window_size=args.window_size, num_classes=2)
        reports = []

        def verify(tmp):
            reports.append(load_pretrained(swin, tmp, 'swin', prefix='backbone.swin.',
                                           min_loaded_ratio=1.0))
            r = load_pretrained(decoder, tmp, 'decode_head', prefix='decode_head.',
                                min_loaded_ratio=0.)
            if r.unexpected or r.mismatched or len(r.loaded) != sum(
                    1 for k in state if k.startswith('decode_head.')):
                raise PretrainedLoadError(f'decoder blocks do not fit SwinExpandDecoder: '
                                          f'{r.summary()}; e.g. {r.unexpected[:3]} '
                                          f'{r.mismatched[:3]}')
            reports.append(r)

        meta.update(source=args.src, converter='mmpretrain2csunet')
        save_checkpoint_atomic({'meta': meta, 'state_dict': state}, args.out, verify=verify)
    except (ConversionError, PretrainedLoadError) as e:
        print(f'mmpretrain2csunet: error: {e}', file=sys.stderr)
        return 1
    rs, rd = reports
    info = meta['swin']
    print(f'{args.src}: Swin prefix {info["prefix"]!r}, layout {info["layout"]}, encoder depths '
          f'{depths}, decoder depths {meta["decoder_depths"]}')
    print(f'  backbone.swin: loaded {len(rs.loaded)}, missing {len(rs.missing)}, unexpected '
          f'{len(rs.unexpected)} (from source {info["from_source"]}, initialised '
          f'{len(info["initialised"])}); not Swin (e.g. head): {len(info["outside_prefix"])}')
    print(f'  decode_head: {len(meta["mapping"])} Swin blocks from the encoder '
          f'({len(rd.loaded)} tensors), {len(meta["decoder_not_initialised"])} blocks left to '
          f'init; other decoder tensors not in the checkpoint: {len(rd.missing)}')
    print(f'  wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
