from minsheng.cli import main

main()
