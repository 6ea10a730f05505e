"""The join that names the city's green-space outlines (tools/basemap_parks.py, issue 20).

The outlines (a shapefile without its attribute table) and the names (the attribute table,
without outlines) come apart; these tests build a SYNTHETIC shapefile and table to check that an
outline takes a name only when the measures agree or, failing that, when its address street runs
beside it with a sensible area, and that ambiguous or far-off rows leave it unnamed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import shapefile

from tools import basemap_build as build
from tools import basemap_parks as parks

K = 111_320 * math.cos(math.radians(48.86))

HEADER = (
    "Identifiant espace vert,Nom de l'espace vert,Typologie d'espace vert,Catégorie,"
    "Adresse - type voie,Adresse - Libellé voie,Code postal,Surface calculée,"
    "Superficie totale réelle,Surface horticole,Présence cloture,Périmètre\n"
)


def _rect(lon: float, lat: float, w_m: float, h_m: float) -> list[tuple[float, float]]:
    """A clockwise ring (a shapefile's outer ring), w_m by h_m from its south-west corner."""
    dx, dy = w_m / K, h_m / 110_574
    return [(lon, lat), (lon, lat + dy), (lon + dx, lat + dy), (lon + dx, lat), (lon, lat)]


def _write_shapefile(path: Path, shapes: list[list[list[tuple[float, float]]]]) -> None:
    """A polygon ``.shp`` alone (no ``.dbf``, as the copy the build reads), written by pyshp."""
    with path.open("wb") as shp, shapefile.Writer(shp=shp, shapeType=shapefile.POLYGON) as out:
        for rings in shapes:
            out.poly([list(ring) for ring in rings])


def _ban(path: Path) -> Path:
    """Two streets of the 13th: the Rue de l'Essai beside the second outline, the Rue Lointaine
    a kilometre off."""
    lines = [
        "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat",
        "75113_x_1;1;;Rue de l'Essai;75013;75113;Paris 13e Arrondissement;2.3600;48.8295",
        "75113_x_3;3;;Rue de l'Essai;75013;75113;Paris 13e Arrondissement;2.3610;48.8295",
        "75113_y_1;1;;Rue Lointaine;75013;75113;Paris 13e Arrondissement;2.3700;48.8400",
        "75113_y_3;3;;Rue Lointaine;75013;75113;Paris 13e Arrondissement;2.3710;48.8400",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    shapes = [
        [_rect(2.35, 48.82, 200, 100)],  # 2 ha, measured in the table as it is
        [_rect(2.36, 48.8297, 150, 100)],  # 1.5 ha, redrawn since the table was measured
        [_rect(2.37, 48.82, 120, 100)],  # 1.2 ha, no row's measures nor street: unnamed
        [_rect(2.38, 48.82, 30, 30)],  # 900 m²: too small to be drawn
    ]
    _write_shapefile(tmp_path / "ev.shp", shapes)
    # The table's measures are Lambert-93's: ours times 1 / AREA_K and 1 / PERIMETER_K.
    area, perimeter = 20_000 / parks.AREA_K, 600 / parks.PERIMETER_K
    rows = [
        f"1,PARC DE LA MESURE,Promenades,Parc,RUE,LOINTAINE,75013,{area:.0f},,,Oui,{perimeter:.3f}",
        "2,JARDIN DE L'ADRESSE,Promenades,Jardin,RUE DE L',ESSAI,75013,14000,,,Oui,500.0",
        "3,SQUARE UN,Promenades,Square,RUE,LOINTAINE,75013,12000,,,Oui,470.0",
        "4,SQUARE DEUX,Promenades,Square,RUE,LOINTAINE,75013,12100,,,Oui,480.0",
        # Right area, but its street is a kilometre from every outline.
        "5,JARDIN LOINTAIN,Promenades,Jardin,RUE,LOINTAINE,75013,15000,,,Oui,520.0",
    ]
    (tmp_path / "ev.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path / "ev.shp", tmp_path / "ev.csv", _ban(tmp_path / "ban.csv")


def test_the_shapefile_reader_reads_back_rings_and_measures(tmp_path: Path) -> None:
    shp, _, _ = _files(tmp_path)
    shapes = parks.read_shapefile(shp)
    assert len(shapes) == 4
    first = shapes[0]
    assert first is not None and len(first) == 1 and len(first[0]) == 5
    area, perimeter = parks.measure(first)
    assert abs(area - 20_000) < 40 and abs(perimeter - 600) < 1


def test_outlines_take_names_by_measure_then_by_address(tmp_path: Path) -> None:
    shp, table, ban = _files(tmp_path)
    out = tmp_path / "named.geojson"
    assert parks.main([str(shp), str(table), "--ban", str(ban), "--out", str(out)]) == 0
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    named = {f["properties"]["nom_ev"]: f["properties"]["jointure"] for f in features}
    # The squares' and the far garden's street runs 2 km from the 1.2 ha outline: none named.
    assert named == {"PARC DE LA MESURE": "measure", "JARDIN DE L'ADRESSE": "address"}
    # What the build then draws from it.
    drawn, labels = build.build_parks([out])
    assert sorted(p["n"] for p in drawn) == ["Jardin de l'Adresse", "Parc de la Mesure"]
    assert len(labels) == 2


def test_two_rows_that_fit_alike_leave_the_outline_unnamed(tmp_path: Path) -> None:
    shp, table, ban = _files(tmp_path)
    rows = [
        "2,JARDIN DE L'ADRESSE,Promenades,Jardin,RUE DE L',ESSAI,75013,14000,,,Oui,500.0",
        "6,JARDIN DU MEME COIN,Promenades,Jardin,RUE DE L',ESSAI,75013,15500,,,Oui,510.0",
    ]
    table.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    joined = parks.join(
        parks.read_shapefile(shp), parks.read_rows(table), parks._street_points([ban])
    )
    assert joined == []
