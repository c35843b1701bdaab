from yimi.cli import main

main()
