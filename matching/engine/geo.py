"""Great-circle geometry on a sphere, vectorised; chord length is monotone in arc length."""

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0088
FloatArray = NDArray[np.float64]


def unit_vectors(lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """Points on the unit sphere, shape (n, 3): chord length orders pairs like arc length."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    cos_lat = np.cos(lat)
    return np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


def chord_for_km(km: float | FloatArray) -> FloatArray:
    """Unit-sphere chord spanning an arc of `km`, inflated a hair so ball queries never miss."""
    arc = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return 2.0 * np.sin(arc / 2.0) * (1.0 + 1e-9) + 1e-12


def km_for_chord(chord: FloatArray) -> FloatArray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def haversine_km(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Haversine distance in km between paired points (the rule's distance)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    return haversine_km_prepared(phi1, np.cos(phi1), lon1, phi2, np.cos(phi2), lon2)


def haversine_km_prepared(
    phi1: FloatArray,
    cos_phi1: FloatArray,
    lon1: FloatArray,
    phi2: FloatArray,
    cos_phi2: FloatArray,
    lon2: FloatArray,
) -> FloatArray:
    """`haversine_km`, bit for bit, from latitudes in radians and their cosines, which the
    tables hold per person: a solve measures millions of pairs, and the cosines were most
    of the time."""
    half_dphi = (phi2 - phi1) / 2.0
    half_dlambda = np.radians(lon2 - lon1) / 2.0
    a = np.sin(half_dphi) ** 2 + cos_phi1 * cos_phi2 * np.sin(half_dlambda) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))
