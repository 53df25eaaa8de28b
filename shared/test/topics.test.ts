import { describe, expect, it } from 'vitest';
import { agentTopics, allAgentsFilter, appTopic, parseTopic, TopicError } from '../src/index.js';

describe('topics', () => {
  it('builds the versioned topics of one agent', () => {
    expect(agentTopics('web-01')).toEqual({
      commands: 'beckon/v1/agents/web-01/commands',
      results: 'beckon/v1/agents/web-01/results',
      progress: 'beckon/v1/agents/web-01/progress',
      status: 'beckon/v1/agents/web-01/status',
    });
    expect(appTopic('deployer', 'replies')).toBe('beckon/v1/apps/deployer/replies');
    expect(allAgentsFilter('status')).toBe('beckon/v1/agents/+/status');
  });

  it.each(['+', '#', 'a/b', 'a\u0000', '%u', 'web 01', '', 'é'])(
    'refuses to build a topic for the agent id %j',
    (agentId) => {
      expect(() => agentTopics(agentId)).toThrow(TopicError);
    },
  );

  it('parses its own topics back', () => {
    expect(parseTopic('beckon/v1/agents/web-01/results')).toEqual({
      scope: 'agent',
      agentId: 'web-01',
      channel: 'results',
    });
    expect(parseTopic('beckon/v1/apps/deployer/replies')).toEqual({
      scope: 'app',
      appId: 'deployer',
      channel: 'replies',
    });
  });

  it.each([
    'beckon/v1/agents/+/results',
    'beckon/v1/agents/#',
    'beckon/v1/agents/web-01/results/extra',
    'beckon/v1/agents/web-01',
    'beckon/v2/agents/web-01/results',
    'beckon/v1/agents/web-01/shell',
    'beckon/v1/apps/deployer/results',
    '/beckon/v1/agents/web-01/results',
    'beckon/v1/agents//results',
  ])('does not parse %j as a Beckon topic', (topic) => {
    expect(parseTopic(topic)).toBeUndefined();
  });
});
