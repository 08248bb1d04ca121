from ui.launcher import main

raise SystemExit(main())
