import { loggableError } from './log-error';

describe('loggableError', () => {
  it('tells a service being down in one line', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(loggableError(refused)).toBe('Error: connect ECONNREFUSED 127.0.0.1:5432');
    expect(
      loggableError(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).not.toContain('\n');
  });

  it("keeps a bug's stack", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(loggableError(bug)).toBe(bug.stack);
    expect(loggableError('plain')).toBe('plain');
  });
});
