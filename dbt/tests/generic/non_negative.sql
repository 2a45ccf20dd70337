{#- Fails for every row where the column is negative (nulls pass; pair with not_null when needed). -#}
{% test non_negative(model, column_name) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
