"""Measurements of a segmented micrograph (an index mask), in physical units.

Class roles come from the class names (:func:`class_roles`):

* ``particles`` (γ' ``secondary``, ``tertiary``, and any other foreground class with a name not
  listed below): connected components (4-connectivity, so particles touching at a corner stay
  apart) measured with scikit-image's ``regionprops_table``: area, equivalent circle diameter
  ``ecd = sqrt(4 area / pi)``, Feret diameters, solidity, centroid (pixels), border flag.
  Feret diameters are the largest / smallest caliper width of the convex hull of the pixel
  *squares* (corners, not centres; ImageJ's convention, its outline follows pixel edges), so a
  ``w x h`` rectangle has ``feret_min = min(w, h)`` and ``feret_max = sqrt(w^2 + h^2)``; for a
  boundary oblique to the grid the squares stick out by up to ``sqrt(2) / 2`` px a side;
  ``aspect_ratio = feret_max / feret_min``; ``solidity`` = area / area of that hull.
  A particle *touches the border* when its bounding box reaches the edge of the analysed field
  (the image edge, or the top of an excluded data bar); such particles are counted but left out
  of the size statistics (their size is cut by the field).
* ``matrix`` (γ): channel width, and ``oxide`` (EBC, with ``crack`` pixels counted as part of the
  layer): local thickness, both from the skeleton (scikit-image ``skeletonize``) and the
  Euclidean distance transform (scipy.ndimage): at a skeleton pixel at distance ``d`` (pixel
  centres) from the nearest pixel outside the phase, the local thickness is ``2 d - 1`` (the
  phase boundary lies half a pixel before that outside pixel, on both sides). Skeleton pixels whose
  inscribed circle would cross the field's edge are left out (the width there is unknown). A
  band of known thickness ``t`` measures ``t`` or ``t - 1`` (a one-pixel skeleton cannot sit
  between two pixel rows); a layer oblique to the grid measures up to 1.5 px thinner (its
  raster boundary): tolerance 1.5 px (tested on straight, tilted and wavy bands).
* ``crack``: connected components (8-connectivity: cracks are thin, diagonal lines), count and
  total length = length of the skeleton (pixel steps: 1 along a row or column, sqrt(2) along a
  diagonal).
* ``background``: area fraction only.

All fractions are of the analysed field: pixels of the field with a class label (255 =
unlabelled is left out).
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull

__all__ = [
    'IGNORE', 'class_roles', 'hull_measures', 'feret_diameters', 'local_thickness',
    'skeleton_length', 'measure_particles', 'measure_mask', 'SUMMARY_FIELDS', 'PARTICLE_FIELDS'
]

IGNORE = 255
ROLE_BY_NAME = {'matrix': 'matrix', 'background': 'background', 'oxide': 'layer',
                'crack': 'crack', 'secondary': 'particles', 'tertiary': 'particles'}

SUMMARY_FIELDS = [
    'image', 'class', 'area_fraction', 'count', 'count_border', 'number_density', 'ecd_mean',
    'ecd_median', 'ecd_std', 'width_mean', 'width_median', 'width_std', 'thickness_mean',
    'thickness_median', 'thickness_std', 'thickness_min', 'thickness_max', 'crack_count',
    'crack_length', 'unit', 'pixel_size', 'calibration_source', 'field_area', 'data_bar_rows'
]
PARTICLE_FIELDS = [
    'image', 'class', 'id', 'area', 'ecd', 'feret_max', 'feret_min', 'aspect_ratio', 'solidity',
    'centroid_x', 'centroid_y', 'touches_border', 'unit'
]


def class_roles(class_names: Sequence[str]) -> List[str]:
    """Role of each class (module docstring); unknown names: index 0 ``background``, others
    ``particles``."""
    roles = []
    for i, name in enumerate(class_names):
        role = ROLE_BY_NAME.get(str(name).lower())
        if role is None:
            role = 'background' if i == 0 else 'particles'
        roles.append(role)
    return roles


def hull_measures(region: np.ndarray) -> np.ndarray:
    """``[feret_max, feret_min, hull_area]`` in pixels of a boolean region: calipers and area of
    the convex hull of its pixel squares (corners, not centres). The minimum caliper width is
    attained with a hull edge on one caliper (rotating calipers), so checking every edge is
    exact."""
    region = np.asarray(region, bool)
    boundary = region & ~ndimage.binary_erosion(region)
    rows, cols = np.nonzero(boundary)
    corners = np.concatenate([np.stack([rows + dr, cols + dc], axis=1)
                              for dr in (0, 1) for dc in (0, 1)]).astype(np.float64)
    hull = ConvexHull(corners)
    pts = corners[hull.vertices]
    diff = pts[:, None, :] - pts[None, :, :]
    feret_max = float(np.sqrt((diff**2).sum(-1)).max())
    edges = np.roll(pts, -1, axis=0) - pts
    normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    widths = np.abs((pts[None, :, :] - pts[:, None, :]) @ normals[..., None])[..., 0]
    return np.array([feret_max, float(widths.max(axis=1).min()), float(hull.volume)])


def feret_diameters(region: np.ndarray) -> np.ndarray:
    """``[feret_max, feret_min]`` in pixels of a boolean region (:func:`hull_measures`)."""
    return hull_measures(region)[:2]


_CHUNK = 100000  # labels measured per regionprops_table call
_SMALL = 64  # particles up to this many pixels: shapes repeat, so their hull is memoised
_hull_cache: Dict[tuple, np.ndarray] = {}


def _hull(regionmask):
    if regionmask.size > 4 * _SMALL or regionmask.sum() > _SMALL:
        return hull_measures(regionmask)
    key = (regionmask.shape, np.packbits(regionmask).tobytes())
    value = _hull_cache.get(key)
    if value is None:
        if len(_hull_cache) > 100000:
            _hull_cache.clear()
        value = _hull_cache[key] = hull_measures(regionmask)
    return value


def _frame_distance(shape) -> np.ndarray:
    h, w = shape
    y = np.arange(h)[:, None]
    x = np.arange(w)[None, :]
    return np.minimum(np.minimum(y + 1, h - y), np.minimum(x + 1, w - x))


def local_thickness(phase: np.ndarray) -> np.ndarray:
    """Local thickness samples (pixels) of a boolean phase ``(H, W)``: ``2 d - 1`` at its
    skeleton pixels whose inscribed circle lies inside the field (module docstring).

    The phase is mirrored across the field's edges before skeletonising, so a layer or channel
    leaving the field continues straight instead of ending in a fork of spurious thin skeleton
    branches; samples are then taken inside the field only.
    """
    from skimage.morphology import skeletonize
    phase = np.asarray(phase, bool)
    if not phase.any() or phase.all():
        return np.zeros(0, np.float64)
    pad = int(np.ceil(ndimage.distance_transform_edt(phase).max())) + 2
    pad_y, pad_x = min(pad, phase.shape[0] - 1), min(pad, phase.shape[1] - 1)
    padded = np.pad(phase, ((pad_y, pad_y), (pad_x, pad_x)), mode='symmetric')
    dist = ndimage.distance_transform_edt(padded)
    skeleton = skeletonize(padded)
    crop = (slice(pad_y, pad_y + phase.shape[0]), slice(pad_x, pad_x + phase.shape[1]))
    dist, skeleton = dist[crop], skeleton[crop]
    keep = skeleton & (dist <= _frame_distance(phase.shape))
    return 2.0 * dist[keep] - 1.0


def skeleton_length(mask: np.ndarray) -> float:
    """Length (pixels) of the skeleton of a boolean mask: 1 per row/column step between
    skeleton pixels, sqrt(2) per diagonal step not already bridged by a row/column path."""
    from skimage.morphology import skeletonize
    s = skeletonize(np.asarray(mask, bool))
    orth = (s[:, :-1] & s[:, 1:]).sum() + (s[:-1, :] & s[1:, :]).sum()
    diag = (s[:-1, :-1] & s[1:, 1:] & ~s[:-1, 1:] & ~s[1:, :-1]).sum() + \
        (s[:-1, 1:] & s[1:, :-1] & ~s[:-1, :-1] & ~s[1:, 1:]).sum()
    return float(orth + np.sqrt(2.0) * diag)


def measure_particles(binary: np.ndarray, pixel_size: float = 1.0) -> Dict[str, np.ndarray]:
    """Per connected component (4-connectivity) of a boolean ``(H, W)`` mask, in units of
    ``pixel_size`` (areas in its square): ``id, area, ecd, feret_max, feret_min, aspect_ratio,
    solidity, centroid_x, centroid_y`` (centroids in pixels), ``touches_border`` (bool)."""
    from skimage.measure import label, regionprops_table
    labels, num = label(np.asarray(binary, bool), connectivity=1, return_num=True)
    h, w = labels.shape
    # regionprops keeps an object per region (~1 KB): measure at most _CHUNK labels at a time
    # so that memory stays bounded for millions of specks (e.g. an untrained model's noise)
    chunks = []
    for first in range(1, max(num, 1) + 1, _CHUNK):
        part = labels if num <= _CHUNK else np.where(
            (labels >= first) & (labels < first + _CHUNK), labels, 0)
        chunks.append(regionprops_table(
            part, properties=('label', 'area', 'equivalent_diameter_area', 'centroid', 'bbox'),
            extra_properties=(_hull, )))
    props = {k: np.concatenate([np.asarray(c[k]) for c in chunks if k in c])
             for k in chunks[0]}
    n = len(props['label'])
    feret_max = np.asarray(props.get('_hull-0', np.zeros(n)), np.float64)
    feret_min = np.asarray(props.get('_hull-1', np.zeros(n)), np.float64)
    hull_area = np.asarray(props.get('_hull-2', np.ones(n)), np.float64)
    touches = ((props['bbox-0'] == 0) | (props['bbox-1'] == 0) | (props['bbox-2'] == h) |
               (props['bbox-3'] == w))
    return dict(
        id=np.asarray(props['label'], np.int64),
        area=np.asarray(props['area'], np.float64) * pixel_size**2,
        ecd=np.asarray(props['equivalent_diameter_area'], np.float64) * pixel_size,
        feret_max=feret_max * pixel_size,
        feret_min=feret_min * pixel_size,
        aspect_ratio=feret_max / np.maximum(feret_min, 1e-12),
        solidity=np.asarray(props['area'], np.float64) / hull_area,
        centroid_x=np.asarray(props['centroid-1'], np.float64),
        centroid_y=np.asarray(props['centroid-0'], np.float64),
        touches_border=np.asarray(touches, bool))


def _stats(values: np.ndarray, prefix: str, fields: Sequence[str]) -> dict:
    out = {}
    funcs = dict(mean=np.mean, median=np.median, min=np.min, max=np.max,
                 std=lambda v: np.std(v, ddof=1) if v.size > 1 else 0.0)
    for f in fields:
        out[f'{prefix}_{f}'] = float(funcs[f](values)) if values.size else float('nan')
    return out


def measure_mask(mask: np.ndarray, class_names: Sequence[str], pixel_size: float = 1.0,
                 roles: Optional[Sequence[str]] = None) -> dict:
    """Measure an index mask ``(H, W)`` (the analysed field; ``IGNORE`` = unlabelled).

    Args:
        mask (np.ndarray): uint8 labels ``0 .. len(class_names)-1`` or ``IGNORE``.
        class_names (Sequence[str]): class names (index = label).
        pixel_size (float): pixel side in the output unit (1.0: pixels).
        roles (Sequence[str], optional): per class, default :func:`class_roles`.

    Returns:
        dict: ``classes`` (per class: summary fields without image/unit/calibration columns),
        ``particles`` (class name -> :func:`measure_particles` dict) and ``samples`` (class name
        -> ``{'ecd'|'width'|'thickness': values}`` in physical units, for histograms).
    """
    roles = list(roles or class_roles(class_names))
    labelled = mask != IGNORE
    field_px = int(labelled.sum())
    field_area = field_px * pixel_size**2
    classes, particles, samples = {}, {}, {}
    for cid, (name, role) in enumerate(zip(class_names, roles)):
        phase = mask == cid
        row = dict(area_fraction=float(phase.sum()) / field_px if field_px else float('nan'),
                   field_area=field_area)
        samples[name] = {}
        if role == 'particles':
            p = measure_particles(phase, pixel_size)
            particles[name] = p
            interior = ~p['touches_border']
            row.update(count=int(p['id'].size), count_border=int((~interior).sum()),
                       number_density=p['id'].size / field_area if field_area else float('nan'))
            row.update(_stats(p['ecd'][interior], 'ecd', ('mean', 'median', 'std')))
            samples[name]['ecd'] = p['ecd'][interior]
        elif role == 'matrix':
            width = local_thickness(phase) * pixel_size
            row.update(_stats(width, 'width', ('mean', 'median', 'std')))
            samples[name]['width'] = width
        elif role == 'layer':
            layer = phase | np.isin(mask, [i for i, r in enumerate(roles) if r == 'crack'])
            thick = local_thickness(layer) * pixel_size
            row.update(_stats(thick, 'thickness', ('mean', 'median', 'std', 'min', 'max')))
            samples[name]['thickness'] = thick
        elif role == 'crack':
            from skimage.measure import label
            _, count = label(phase, connectivity=2, return_num=True)
            row.update(crack_count=int(count),
                       crack_length=skeleton_length(phase) * pixel_size)
        classes[name] = row
    return dict(classes=classes, particles=particles, samples=samples)
