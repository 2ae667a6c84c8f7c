from gearshift.cli import main

raise SystemExit(main())
