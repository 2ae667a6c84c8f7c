"""TypeScript/JavaScript resolution: tsconfig paths and baseUrl, index files, re-exports, require, .d.ts."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift.context import jsscan
from gearshift.context.graph import ImportGraph
from gearshift.context.pyscan import LAZY, REEXPORT, TYPE_ONLY
from gearshift.context.tsconfig import parse_jsonc

from tests.support.context_trees import copy_tree, write


@pytest.fixture
def graph(tmp_path: Path) -> ImportGraph:
    root = copy_tree("ts_project", tmp_path, {"node_modules/leftpad/index.js": 'module.exports = require("./impl");\n'})
    return ImportGraph.load_or_build(root)


def test_tsconfig_paths_baseurl_extends_index_and_js_extension(graph: ImportGraph) -> None:
    assert graph.imports("src/app.ts") == {
        "src/lib/util.ts",  # "@lib/util" through paths (baseUrl from the extended config)
        "src/lib/format.ts",  # "lib/format" through baseUrl
        "src/models/index.ts",  # "@models" (exact pattern) and "./models/index.js" (.js → .ts)
        "src/legacy/old.js",  # require("./legacy/old")
        "src/ping.ts",  # await import("./ping")
        "src/globals.d.ts",  # /// <reference path>
    }


def test_node_modules_are_leaves_and_not_indexed(graph: ImportGraph) -> None:
    assert not any(f.startswith("node_modules/") for f in graph.files)
    assert graph.resolve_module("leftpad") is None


def test_index_file_of_a_folder(graph: ImportGraph) -> None:
    assert graph.imports("src/lib/util.ts") == {"src/models/index.ts"}  # "../models"


def test_reexports_and_definitions_through_them(graph: ImportGraph) -> None:
    edges = graph.edges("src/models/index.ts")
    assert set(edges) == {"src/models/shape.ts", "src/models/color.ts"}
    assert edges["src/models/shape.ts"].reexport and edges["src/models/shape.ts"].type_only
    assert graph.definition("src/models/index.ts", "Shape") == ("src/models/shape.ts", "t")
    assert graph.definition("src/models/index.ts", "Color") == ("src/models/color.ts", "t")  # export *
    assert graph.definition("src/lib/util.ts", "area") == ("src/lib/util.ts", "f")


def test_type_only_lazy_and_declaration_edges(graph: ImportGraph) -> None:
    edges = graph.edges("src/app.ts")
    assert edges["src/ping.ts"].lazy
    assert edges["src/globals.d.ts"].type_only
    assert not edges["src/lib/util.ts"].type_only
    # `import type { Shape } from "@models"` and `import { Color } from "./models/index.js"`
    # land on the same file: the edge is type-only only if every import of it is.
    assert not edges["src/models/index.ts"].type_only


def test_cycle_between_app_and_ping(graph: ImportGraph) -> None:
    assert "src/app.ts" in graph.imports("src/ping.ts")
    assert "src/ping.ts" in graph.imports("src/app.ts")


def test_tsx_is_indexed(graph: ImportGraph) -> None:
    assert graph.imports("src/view.tsx") == {"src/app.ts"}


def test_jsonc_comments_trailing_commas_and_comment_like_strings() -> None:
    data = parse_jsonc('{ // c\n "paths": {"@/*": ["./src/*",], /* x */}, "u": "http://a",\n}')
    assert data == {"paths": {"@/*": ["./src/*"]}, "u": "http://a"}


def test_lexer_ignores_imports_in_strings_templates_regexes_and_comments() -> None:
    src = (
        'const re = /import "nope"/g;\n'
        'const s = `x ${ "import(\'a\')" + `${1}` } import "b"`;\n'
        '// import "c"\n'
        '/* require("d") */\n'
        'const r = a / 2 / b; import "./real";\n'
        'obj.import("e"); obj.require("f");\n'
    )
    imports, *_ = jsscan.scan_js(src)
    assert [i[0] for i in imports] == ["./real"]


def test_import_forms_and_their_names() -> None:
    src = (
        'import D, { a, b as c, type T } from "./m1";\n'
        'import * as ns from "./m2";\n'
        'import type { U } from "./m3";\n'
        'export { x as y } from "./m4";\n'
        'export * from "./m5";\n'
        'export type { V } from "./m6";\n'
        'import q = require("./m7");\n'
        'const z = require("./m8");\n'
        'function f() { return import("./m9"); }\n'
        'export interface I { a: number }\nexport type Id = string;\nexport enum E { A }\n'
        'export default class K {}\nexport const k = 1;\n'
    )
    imports, defs, *_ = jsscan.scan_js(src)
    by_spec = {spec: (names, flags) for spec, _level, names, flags in imports}
    assert by_spec["./m1"] == (("default:D", "a", "b:c", "T"), 0)
    assert by_spec["./m2"] == (("*:ns",), 0)
    assert by_spec["./m3"] == (("U",), TYPE_ONLY)
    assert by_spec["./m4"] == (("x:y",), REEXPORT)
    assert by_spec["./m5"] == (("*",), REEXPORT)
    assert by_spec["./m6"] == (("V",), REEXPORT | TYPE_ONLY)
    assert by_spec["./m7"] == (("*:q",), 0)
    assert by_spec["./m8"] == ((), 0)
    assert by_spec["./m9"] == ((), LAZY)
    assert defs == {"z": "v", "f": "f", "I": "t", "Id": "t", "E": "t", "default": "v", "K": "c", "k": "v"}


def test_declaration_file_defines_only_types() -> None:
    _imports, defs, *_ = jsscan.scan_js("declare function g(): void;\nexport class C {}\n", declaration=True)
    assert set(defs.values()) == {"t"}


def test_paths_without_baseurl_are_relative_to_their_config(tmp_path: Path) -> None:
    write(tmp_path, "web/tsconfig.json", '{"compilerOptions": {"paths": {"~/*": ["./app/*"]}}}')
    write(tmp_path, "web/app/x.ts", "export const x = 1;\n")
    write(tmp_path, "web/main.ts", 'import { x } from "~/x";\n')
    write(tmp_path, "other/main.ts", 'import { x } from "~/x";\n')  # no config applies here
    graph = ImportGraph.load_or_build(tmp_path)
    assert graph.imports("web/main.ts") == {"web/app/x.ts"}
    assert graph.imports("other/main.ts") == set()
