{#-
    Fails for every row whose column is null or below `minimum` (for example the
    silhouette floor on segmentation_runs). `where` narrows the rows checked;
    `when_at_least` ({column: floor}) narrows them to rows where each column reaches its
    floor: an argument, not a `where`, so its numbers can be checked vars.
-#}
{% test value_at_least(model, column_name, minimum, when_at_least=none) %}

select *
from {{ model }}
where
    ({{ column_name }} is null or {{ column_name }} < {{ minimum }})
    {%- for column, floor in (when_at_least or {}).items() %}
    and {{ column }} >= {{ floor }}
    {%- endfor %}
{% endtest %}
