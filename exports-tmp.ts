import ts from 'typescript'
const entry = process.argv[2] ?? 'lib/index.ts'
const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, customConditions: ['charmory-track-source'] })
const checker = program.getTypeChecker()
const sym = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
const out = { values: [] as string[], namespaces: [] as string[], types: [] as string[] }
for (const e of checker.getExportsOfModule(sym)) {
  const t = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e
  if (t.flags & ts.SymbolFlags.ValueModule) {
    out.namespaces.push(e.name)
    if (process.argv[3]) console.log(`${e.name}: ${checker.getExportsOfModule(t).map((m) => m.name).join(', ')}`)
  } else if (t.flags & ts.SymbolFlags.Value) out.values.push(e.name)
  else out.types.push(e.name)
}
console.log(JSON.stringify({ values: out.values.length, namespaces: out.namespaces.length, types: out.types.length }))
console.log('values:', out.values.join(', '))
console.log('types:', out.types.join(', '))
