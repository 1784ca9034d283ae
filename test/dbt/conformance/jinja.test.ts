/**
 * Jinja as dbt renders it (Jinja2 on Python): each expression renders to what Jinja2 gives, or is refused by
 * name where nunjucks cannot be made to match (`4 / 2` is the float 2.0 in Python).
 */
import { describe, expect, it } from 'vitest';
import { JinjaEnv } from '../../../localstack/dbt/jinja.ts';

const render = (source: string): string => {
  const env = new JinjaEnv({});
  return env.render('models/m.sql', env.compile('models/m.sql', source));
};

describe('Jinja2 renderings', () => {
  it.each([
    ['list + list', '{{ [1, 2] + [3] }}', '[1, 2, 3]'],
    ['list + list in a join', "{{ (['a'] + ['b']) | join(',') }}", 'a,b'],
    ['truthiness of []', '{% if [] %}yes{% else %}no{% endif %}', 'no'],
    ['truthiness of {}', '{% if {} %}yes{% else %}no{% endif %}', 'no'],
    ['not []', '{{ not [] }}', 'True'],
    ['[] or default', "{{ [] or 'default' }}", 'default'],
    ['{} and x', "{{ {} and 'x' }}", '{}'],
    ['inline if on []', "{{ 'yes' if [] else 'no' }}", 'no'],
    ['.replace (every occurrence)', "{{ 'a-b-c'.replace('-', '_') }}", 'a_b_c'],
    ['.replace with a count', "{{ 'a-b-c'.replace('-', '_', 1) }}", 'a_b-c'],
    ["'-' * 3", "{{ '-' * 3 }}", '---'],
    ['list * 2', '{{ [0] * 2 }}', '[0, 0]'],
    ['list equality', '{{ [1, 2] == [1, 2] }} {{ [1] != [1] }}', 'True False'],
    ['dict equality', "{{ {'a': 1} == {'a': 1} }}", 'True'],
    ['for k in dict', "{% for k in {'a': 1, 'b': 2} %}{{ k }};{% endfor %}", 'a;b;'],
    ['for k, v in dict.items()', "{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %}", 'a=1'],
    ['{{ True }}', '{{ True }} {{ False }}', 'True False'],
    ['{{ none }}', '{{ none }}', 'None'],
    ['~ none', "{{ 'x' ~ none }}", 'xNone'],
    ['~ True', "{{ 'x' ~ True }}", 'xTrue'],
    ['{{ 5 / 2 }}', '{{ 5 / 2 }}', '2.5'],
    ['{{ 4 // 2 }}', '{{ 4 // 2 }}', '2'],
    ['a list', "{{ ['a', 1] }}", "['a', 1]"],
    ['a dict', "{{ {'a': 'b'} }}", "{'a': 'b'}"],
    ['negative index', '{{ [1, 2, 3][-1] }}', '3'],
    ['str.upper()', "{{ 'ab'.upper() }}", 'AB'],
    ['str.split()', "{{ 'a  b'.split() | join('|') }}", 'a|b'],
    ['dict.get()', "{{ {'a': 1}.get('b', 0) }}", '0'],
  ])('%s', (_construct, source, expected) => {
    expect(render(source)).toBe(expected);
  });

  it.each([
    ['{{ 4 / 2 }}', "division '/' with a whole result"],
    ["{{ 'ab'.length }}", "attribute '.length' of a str"],
    ["{{ 'ab'.toUpperCase() }}", "attribute '.toUpperCase' of a str"],
    ['{{ [1].map }}', "attribute '.map' of a list"],
  ])('%s is refused by name', (source, construct) => {
    expect(() => render(source)).toThrow(
      new RegExp(
        `${construct.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.* at models/m\\.sql(:\\d+)? is not supported by the embedded runner; run dbt-core for it`,
      ),
    );
  });

  it.each([
    ["{{ 'a' + 1 }}", /TypeError: unsupported operand type\(s\) for \+: 'str' and 'int'/],
    ['{{ [1] + 1 }}', /TypeError: unsupported operand type\(s\) for \+: 'list' and 'int'/],
    ['{{ 1 / 0 }}', /ZeroDivisionError/],
  ])('%s fails as in Python', (source, error) => {
    expect(() => render(source)).toThrow(error);
  });
});
