# LibreLinkUp: simulator on the test server, driver tests.
