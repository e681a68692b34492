{#-
    Fails for every row whose column is null or below `minimum` (for example the
    silhouette floor on segmentation_runs). `where` narrows the rows checked.
-#}
{% test value_at_least(model, column_name, minimum) %}

select *
from {{ model }}
where {{ column_name }} is null or {{ column_name }} < {{ minimum }}
{% endtest %}
