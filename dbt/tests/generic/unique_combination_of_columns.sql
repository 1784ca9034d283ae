{#
    Passes when no two rows share the same values in all the given columns: the composite-key test
    (the same contract as dbt_utils.unique_combination_of_columns, without the package dependency).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
