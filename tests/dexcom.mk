# Dexcom Share: simulator on the test server, driver tests.
