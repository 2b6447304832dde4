//! Every function a blockwork process registers declares its parameters,
//! so a cluster's handshake compares them all between peers.

#[test]
fn every_builtin_function_declares_its_parameters() {
    blockwork::register_builtins();
    let layouts = blockwork::graph::registry_layouts();
    let undeclared: Vec<_> = layouts.iter().filter(|(_, layout)| layout.is_empty()).map(|(name, _)| *name).collect();
    assert!(undeclared.is_empty(), "functions without declared parameters: {undeclared:?}");
    for family in ["blockwork.array.", "blockwork.bag.", "blockwork.labeled.", "dataframe.", "blockwork.getitem"] {
        assert!(layouts.iter().any(|(name, _)| name.starts_with(family)), "no {family}* function registered");
    }
}
