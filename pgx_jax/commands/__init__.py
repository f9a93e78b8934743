"""One module per `pgx` subcommand, each with `main(argv: list[str]) -> int`."""
