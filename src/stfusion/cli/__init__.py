"""The `stfusion` command line: parsing and printing only (see DESIGN.md, "Command line")."""
