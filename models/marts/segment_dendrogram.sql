{#-
    The Ward tree of the current agglomerative run, one row per merge (scipy linkage
    order), for plotting a dendrogram; empty for a K-means run. Nodes below the sample
    size are customers of the fit sample, the others are earlier merges (node - sample).
-#}
with

model as (
    select * from {{ ref('shopseg', 'int_segment_model__latest') }}
    where record_type = 'dendrogram'
),

final as (
    select
        run_id,
        k as merge_step,
        cast(max(case when name = 'left' then value end) as {{ dbt.type_bigint() }}) as left_node,
        cast(max(case when name = 'right' then value end) as {{ dbt.type_bigint() }})
            as right_node,
        max(case when name = 'distance' then value end) as merge_distance,
        cast(max(case when name = 'size' then value end) as {{ dbt.type_bigint() }})
            as customers_below
    from model
    group by 1, 2
)

select * from final
