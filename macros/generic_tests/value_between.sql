{#- Fails for every row whose column is null or outside [minimum, maximum]. -#}
{% test value_between(model, column_name, minimum, maximum) %}

select *
from {{ model }}
where
    {{ column_name }} is null
    or {{ column_name }} < {{ minimum }}
    or {{ column_name }} > {{ maximum }}
{% endtest %}
