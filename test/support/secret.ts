/**
 * The HS256 secret of every test server, in this process or a child process. Its own module, so that tests of
 * child processes can sign tokens without loading the app.
 */
export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';
