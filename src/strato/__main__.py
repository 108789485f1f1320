from strato.cli import main

main()
